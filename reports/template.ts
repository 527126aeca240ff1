/**
 * HTML from a tagged template that escapes what it is given: in markup`<td class="${a}">${b}</td>` both
 * `a` and `b` are escaped (`& < > " '`, so in text and in quoted attributes alike) unless they are
 * themselves markup. Lists are joined; `undefined`, `null` and `false` give nothing, so
 * `${ok && markup`...`}` works. Markup is branded with a symbol, which data read from a run record (JSON)
 * cannot carry, so no value from a record passes for markup. Attribute values must be quoted.
 *
 * The tag is not called `html` on purpose: Prettier reformats templates tagged `html` as HTML documents,
 * which would change the report's bytes (indentation, line breaks) with every Prettier version.
 */
const MARKUP: unique symbol = Symbol('markup');

/** Markup that is inserted as it is: made by `markup`, `joinMarkup` or (fixed text only) `unsafeRaw`. */
export interface Markup {
  readonly [MARKUP]: string;
}

/** What a template takes: text and numbers (escaped), markup (as it is), lists of either, or nothing. */
export type Interpolation = Markup | string | number | false | null | undefined | readonly Interpolation[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const fragment = (text: string): Markup => Object.freeze({ [MARKUP]: text });
const isMarkup = (value: unknown): value is Markup => typeof value === 'object' && value !== null && MARKUP in value;

function piece(value: Interpolation): string {
  if (value === undefined || value === null || value === false) return '';
  if (isMarkup(value)) return value[MARKUP];
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(piece).join('');
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export function markup(strings: TemplateStringsArray, ...values: Interpolation[]): Markup {
  return fragment(strings.reduce((out, s, i) => out + piece(values[i - 1]) + s));
}

/** The items one after another with `separator` (text, escaped) between them. */
export function joinMarkup(items: readonly Interpolation[], separator: string): Markup {
  return fragment(items.map(piece).join(piece(separator)));
}

/** UNSAFE, NOT ESCAPED: for fixed markup written in this code (a stylesheet), never for anything from a record. */
export function unsafeRaw(fixed: string): Markup {
  return fragment(fixed);
}

export function render(fragment: Markup): string {
  return fragment[MARKUP];
}
