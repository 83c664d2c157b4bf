// The generator's public face: deterministic eventsim-like raw data for the lake, written through
// the engine's Storage (`sparkify-lake generate`, the tests and the benchmark use it).
export { generate, resolveOptions, type GenerateOptions, type GenerateProgress, type GenerateSummary } from './generate.js';
export { Catalog, type Song, type Artist } from './catalog.js';
export { Users, type User } from './users.js';
export { EventStream, type EventLine, type EventStreamOptions } from './sessions.js';
export { LOG_MUTATIONS, SONG_MUTATIONS } from './hostile.js';
