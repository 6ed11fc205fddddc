/** The URL of another API route beside the token endpoint (`…/token` → `…/history`, `…/revoke`). */
export function siblingUrl(tokenUrl: string, name: 'history' | 'revoke'): string {
  if (!/\/token\/?$/.test(tokenUrl)) throw new TypeError(`createAblyService: pass ${name}Url when tokenUrl does not end in /token`)
  return tokenUrl.replace(/token(\/?)$/, `${name}$1`)
}
