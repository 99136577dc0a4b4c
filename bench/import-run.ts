// Runs `hush import` in this process and reports its peak memory, for bench/import.ts.
import { main } from '../src/cli/main.ts';

const code = await main(process.argv.slice(2));
console.log(`MAXRSS ${process.resourceUsage().maxRSS}`);
process.exitCode = code === 3 ? 0 : code;
