/**
 * The search attributes a run sets, so `drover list`/`history` and the Web UI filter on the server:
 * its plan and mode when it starts, its result when it ends. All Keyword; `drover server` registers them,
 * a cluster needs `temporal operator search-attribute create --name <name> --type Keyword` once each.
 */
export const SEARCH_ATTRIBUTES = { plan: 'DroverPlan', mode: 'DroverMode', result: 'DroverResult' } as const;
