// Composes subgraphs into a supergraph with Apollo Federation's composition library.
// stdin: [{"name": ..., "url": ..., "sdl": ...}]; stdout: {"errors": [...], "hints": [...], "supergraphSdl": ...}.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const subgraphs = JSON.parse(readFileSync(0, 'utf8'));
const result = composeServices(subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })));
process.stdout.write(JSON.stringify({
  errors: (result.errors ?? []).map((error) => error.toString()),
  hints: (result.hints ?? []).map((hint) => hint.toString()),
  supergraphSdl: result.supergraphSdl ?? null,
}));
