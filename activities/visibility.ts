/**
 * Which of Drover's search attributes the namespace has registered (workflows/visibility.ts asks before it
 * sets them: an unregistered one would fail the workflow task). An activity of the orchestration worker
 * (a local one in runs recorded before `drover-search-attributes-by-activity-v1`).
 */
import { Context } from '@temporalio/activity';

export const visibilityActivities = {
  async registeredSearchAttributes(names: string[]): Promise<string[]> {
    const ctx = Context.current();
    const answer = await ctx.client.connection.operatorService.listSearchAttributes({
      namespace: ctx.info.workflowNamespace,
    });
    const known = new Set(Object.keys(answer.customAttributes ?? {}));
    return names.filter((n) => known.has(n));
  },
};
export type VisibilityActivities = typeof visibilityActivities;
