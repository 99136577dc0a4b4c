// CLI outcomes other than success: a usage error exits 2, a failure exits 1; both print one line.
export class UsageError extends Error {}
export class Failure extends Error {}
