/**
 * Where a provider's answers may send the gateway (the SSRF guard of file downloads). The provider's
 * configured API origin is trusted as configured, and so are the origins the operator lists in
 * PROVIDER_ASSET_ORIGINS; any other URL must be `https:` on a host that resolves to public addresses
 * only. The address is checked when the connection is made (a custom DNS lookup of the connection
 * itself), so a host name that resolves differently the second time (DNS rebinding) is refused too, and
 * a refused request never leaves the process.
 */
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, type Dispatcher } from 'undici';

/** Thrown by the guarded lookup: the host resolves to an address the gateway does not connect to. */
export class EgressRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusal';
  }
}

/** The refusal somewhere in an error's cause chain (undici may wrap what the lookup threw). */
export function egressRefusalIn(err: unknown): EgressRefusal | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EgressRefusal) return e;
  }
  return undefined;
}

/**
 * Why an IP address is not public (`loopback`, `private`, `linkLocal`, `uniqueLocal`, `carrierGradeNat`,
 * `multicast`, `unspecified`, …), or undefined for a public unicast address. IPv4 addresses inside IPv6
 * (v4-mapped, NAT64) are judged as the IPv4 address they carry; tunnels (6to4, Teredo) are refused.
 */
export function nonPublicRange(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    const range = v6.range();
    if (range === 'ipv4Mapped') return nonPublicRange(v6.toIPv4Address().toString());
    if (range === 'rfc6052') return nonPublicRange(ipaddr.fromByteArray(v6.toByteArray().slice(12)).toString());
    return range === 'unicast' ? undefined : range;
  }
  const range = (ip as ipaddr.IPv4).range();
  return range === 'unicast' ? undefined : range;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for connections that refuses a host when any of its addresses is not public (a host with
 * one private address among public ones could be steered to it).
 */
export function guardedLookup(resolve: LookupFunction = systemLookup as unknown as LookupFunction): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, ((err: NodeJS.ErrnoException | null, found: string | LookupAddress[], family?: number) => {
      if (err) return callback(err, '');
      const list: LookupAddress[] = Array.isArray(found) ? found : [{ address: found, family: family ?? 4 }];
      if (list.length === 0) return callback(new EgressRefusal(`${hostname} resolves to no address`), '');
      for (const a of list) {
        const range = nonPublicRange(a.address);
        if (range) return callback(new EgressRefusal(`${hostname} resolves to ${a.address}, a ${range} address`), '');
      }
      if (options.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    }) as LookupCallback);
  }) as LookupFunction;
}

export interface EgressOptions {
  /** The provider's configured API base URL: its origin is trusted as configured (even on loopback). */
  apiBaseUrl?: string;
  /** PROVIDER_ASSET_ORIGINS: origins fetched whatever their scheme and address. */
  assetOrigins?: readonly string[];
  /** Resolves host names for guarded connections (default: the system resolver); tests inject one. */
  lookup?: LookupFunction;
}

/** How a URL may be fetched: through which dispatcher, or why not at all. */
export type EgressRoute = { allowed: true; trusted: boolean; dispatcher?: Dispatcher } | { allowed: false; reason: string };

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** The egress policy of one provider's file downloads. */
export class AssetEgress {
  private readonly trusted: ReadonlySet<string>;
  private readonly lookup?: LookupFunction;
  private guarded?: Agent;

  constructor(opts: EgressOptions = {}) {
    const origins = [opts.apiBaseUrl, ...(opts.assetOrigins ?? [])].map((o) => (o ? originOf(o) : undefined));
    this.trusted = new Set(origins.filter((o): o is string => o !== undefined && o !== 'null'));
    this.lookup = opts.lookup;
  }

  /** Whether the gateway may fetch `url`, and how (a trusted origin uses the caller's dispatcher). */
  route(url: string): EgressRoute {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { allowed: false, reason: 'the file URL is not a URL' };
    }
    if (this.trusted.has(u.origin)) return { allowed: true, trusted: true };
    if (u.protocol !== 'https:') return { allowed: false, reason: `the file host ${u.host} is not https and not a trusted origin` };
    if (u.username || u.password) return { allowed: false, reason: 'the file URL carries credentials' };
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (ipaddr.isValid(host)) {
      // An IP literal is connected to without a lookup: judge it here.
      const range = nonPublicRange(host);
      if (range) return { allowed: false, reason: `the file host ${host} is a ${range} address` };
    }
    this.guarded ??= new Agent({ connect: { lookup: guardedLookup(this.lookup) } });
    return { allowed: true, trusted: false, dispatcher: this.guarded };
  }

  async close(): Promise<void> {
    await this.guarded?.close();
    this.guarded = undefined;
  }
}
