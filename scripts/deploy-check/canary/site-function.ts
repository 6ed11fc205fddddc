/** A stand-in for a site's own edge function, bundled beside ours by the deploy check to show it keeps serving. */ export default () =>
  new Response('site function ok', {
    headers: {
      'content-type': 'text/plain',
    },
  })
export const config = {
  path: '/_deploy-check/site-function',
}
