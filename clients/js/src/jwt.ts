/**
 * Reads `exp` (seconds since the epoch) from a JWT's payload, without verifying it (the gateway does that).
 * Returns the expiry in milliseconds since the epoch, or `undefined` if the token has no readable `exp`.
 */
export function tokenExpiryMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length < 2) {
    return undefined;
  }

  try {
    const base64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, c => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    // Not a decodable JWT: the client then simply does not refresh ahead of expiry.
    return undefined;
  }
}
