// Whether a request reached Hush over HTTPS, which decides the cookies' Secure flag. The
// X-Forwarded-Proto header is a claim any client can send, so it is believed only when the socket
// peer is one of HUSH_TRUSTED_PROXIES: the rule the collector applies to X-Forwarded-For
// (src/collector/client-ip.ts). Believing it from anyone was issue 12, finding 4.
import { ClientIpResolver, type Cidr } from '../collector/client-ip.ts';

/**
 * A judge of requests: https when the URL says so, or when a trusted proxy says so in
 * X-Forwarded-Proto (its last entry: the one that proxy wrote).
 */
export function httpsJudge(trusted: Cidr[]): (url: string, peer: string, forwardedProto: string | undefined) => boolean {
  const proxies = new ClientIpResolver(trusted);
  return (url, peer, forwardedProto) => {
    if (url.startsWith('https:')) return true;
    if (!forwardedProto || !trusted.length || proxies.trust(peer) !== true) return false;
    return forwardedProto.split(',').pop()!.trim().toLowerCase() === 'https';
  };
}
