// A request the Stats API refuses with 400: the message names the offending field.
export class QueryError extends Error {}
