// Runs the GraphQL over HTTP server audits (npm graphql-http) against ACCORD_GRAPHQL_URL, every
// request carrying ACCORD_GRAPHQL_TOKEN, one audit at a time. Prints the results as JSON.
import { serverAudits } from 'graphql-http';

const url = process.env.ACCORD_GRAPHQL_URL;
const token = process.env.ACCORD_GRAPHQL_TOKEN;

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const { id, name, status, reason } = await audit.fn();
  results.push({ id, name, status, reason });
}
process.stdout.write(JSON.stringify(results));
