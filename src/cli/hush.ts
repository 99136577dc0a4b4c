// Entry point of the `hush` command (npm start, npm run hush, bin/hush.js).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
