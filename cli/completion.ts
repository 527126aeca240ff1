/**
 * `drover completion bash|zsh|fish`: shell completion scripts written from the same command definitions
 * that commander parses (program.ts), so a new command or option completes without another edit.
 * The scripts are static: completing never starts Node.
 */
import type { Command, OptionDef } from './commands';
import { optionsOf } from './program';

interface Flat {
  /** `schedule create` */
  path: string[];
  def: Command;
}

function flatten(commands: readonly Command[], path: string[] = []): Flat[] {
  return commands.flatMap((def) => [
    { path: [...path, def.name], def },
    ...flatten(def.subcommands ?? [], [...path, def.name]),
  ]);
}

const flagsOf = (name: string, d: OptionDef) => [
  `--${name}`,
  ...(d.short ? [`-${d.short}`] : []),
  ...(d.negatable ? [`--no-${name}`] : []),
];

const takesFile = (def: Command) => /<(file|paths)/.test(def.operands ?? '');

export function bashCompletion(commands: readonly Command[]): string {
  const all = flatten(commands);
  const cases = all.map(({ path, def }) => {
    const opts = optionsOf(def);
    const words = [...opts.flatMap(([n, d]) => flagsOf(n, d)), '--help', ...(def.subcommands ?? []).map((s) => s.name)];
    const values = opts
      .filter(([, d]) => d.value)
      .map(([n, d]) => {
        const flags = [`--${n}`, ...(d.short ? [`-${d.short}`] : [])].join('|');
        const action = d.choices
          ? `COMPREPLY=($(compgen -W "${d.choices.join(' ')}" -- "$cur"))`
          : d.complete === 'directory'
            ? 'COMPREPLY=($(compgen -d -- "$cur"))'
            : d.complete === 'file'
              ? 'COMPREPLY=($(compgen -f -- "$cur"))'
              : 'COMPREPLY=()';
        return `        ${flags}) ${action}; return ;;`;
      });
    return `    "${path.join(' ')}")
      case "$prev" in
${values.join('\n')}
      esac
      if [[ "$cur" == -* ]] || [[ -z "${takesFile(def) ? '1' : ''}" ]]; then
        COMPREPLY=($(compgen -W "${words.join(' ')}" -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;`;
  });
  const top = commands.map((c) => c.name).join(' ');
  const nested = commands.filter((c) => c.subcommands?.length).map((c) => c.name);
  return `# drover completion for bash: source <(drover completion bash)
_drover() {
  local cur prev path i w
  local -a words=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] || words+=("$w")
  done
  path="\${words[0]}"
  case "$path" in
    ${nested.join('|') || '_none_'}) [[ \${#words[@]} -gt 1 ]] && path="$path \${words[1]}" ;;
  esac
  case "$path" in
    "")
      COMPREPLY=($(compgen -W "${top} help completion --help --version" -- "$cur"))
      ;;
${cases.join('\n')}
  esac
}
complete -o default -F _drover drover
`;
}

export function zshCompletion(commands: readonly Command[]): string {
  return `#compdef drover
# drover completion for zsh: source <(drover completion zsh)  (uses zsh's bash completion layer)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(commands)}`;
}

export function fishCompletion(commands: readonly Command[]): string {
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# drover completion for fish: drover completion fish | source', 'complete -c drover -f'];
  const walk = (defs: readonly Command[], parents: string[]) => {
    const condition = parents.length
      ? `__fish_seen_subcommand_from ${parents[parents.length - 1]}; and not __fish_seen_subcommand_from ${defs.map((d) => d.name).join(' ')}`
      : '__fish_use_subcommand';
    for (const def of defs) {
      lines.push(`complete -c drover -n ${quote(condition)} -a ${def.name} -d ${quote(def.summary)}`);
      const when = `__fish_seen_subcommand_from ${def.name}`;
      if (takesFile(def)) lines.push(`complete -c drover -n ${quote(when)} -F`);
      for (const [name, d] of optionsOf(def)) {
        const values = d.choices
          ? ` -x -a ${quote(d.choices.join(' '))}`
          : d.value
            ? d.complete
              ? ' -r -F'
              : ' -x'
            : '';
        lines.push(
          `complete -c drover -n ${quote(when)} -l ${name}${d.short ? ` -s ${d.short}` : ''}${values} -d ${quote(d.help)}`,
        );
        if (d.negatable) lines.push(`complete -c drover -n ${quote(when)} -l no-${name} -d ${quote(`no ${name}`)}`);
      }
      if (def.subcommands) walk(def.subcommands, [...parents, def.name]);
    }
  };
  walk(commands, []);
  return lines.join('\n') + '\n';
}
