/** The channel policy's types: what a user declares, and the policy derived from it (see `./index.ts`). */
import type { z } from 'zod'
import type { AppError } from '../errors/index.ts'
import type { PolicyCaller } from './caller.ts'

type ZodNamespace = typeof z
/**
 * zod's namespace, handed to each payload schema builder on Node. An interface, not an alias of `typeof z`: declarations
 * emitted for a policy (`smsInbox`'s builders) then name it, instead of spelling out zod's inner file, which its package
 * exports do not name.
 */
export interface Zod extends ZodNamespace {}

/** What a browser credential may do on a channel kind. `publish` only with `browserPublish: 'bypasses-gateway'`. */
export type BrowserOperation = 'subscribe' | 'history' | 'presence' | 'publish'

/**
 * Who may publish through the gateway: the channel's `owner` (its owner segment is the caller's), its `members` (its
 * member segment is among the caller's memberships), `admins` (a role in `ABLY_ADMIN_ROLES`), `role:<name>` (that
 * role), `server` (a server holding the Ably key, through the server helpers).
 */
export type Publisher = 'owner' | 'members' | 'admins' | 'server' | `role:${string}`

export interface EventDeclaration {
  /** The payload schema, built from zod on Node only. */
  readonly data: (zod: Zod) => z.ZodType
  /** Payload paths (dotted) that, when present, must equal a segment of the channel: `{ 'contact.userId': 'userId' }`. */
  readonly ids?: Readonly<Record<string, string>>
}

export interface KindDeclaration {
  /** The channel name: `:`-separated fixed parts and `{segment}`s, starting with a fixed namespace: `sms:{userId}:{contactId}`. */
  readonly pattern: string
  /** The segment bound to the verified caller (`caller.segment`): the channel belongs to that user. */
  readonly owner?: string
  /** The segment bound to the caller's memberships (`channelSegment(membership)`): the channel belongs to a group. */
  readonly member?: string
  /** What the browser credential may do on the caller's channels of this kind (or on every one, for a public kind). */
  readonly browser: readonly BrowserOperation[]
  /** Must be said to let browsers publish: their messages bypass the gateway's validation, store, history and outbox. */
  readonly browserPublish?: 'bypasses-gateway'
  /** Who may publish through the gateway (and so read its history). */
  readonly publishers: readonly Publisher[]
  /** The events allowed on the kind, each with its payload schema. */
  readonly events: Readonly<Record<string, EventDeclaration>>
}

/**
 * The characters a segment may hold, as the body of a regex character class, and its longest length; `pattern`, when
 * given, narrows it further (a value must match both, so the alphabet alone decides what is safe).
 */
export interface SegmentAlphabet {
  readonly alphabet: string
  readonly maxLength: number
  readonly pattern?: RegExp
}

export interface PolicyDeclaration {
  /** The default for every segment: `A-Za-z0-9_-`, 64 characters. */
  readonly segment?: SegmentAlphabet
  /** Per-segment alphabets, by segment name. */
  readonly segments?: Readonly<Record<string, SegmentAlphabet>>
  readonly kinds: Readonly<Record<string, KindDeclaration>>
  /** Longer names are refused before parsing (default 200). */
  readonly maxNameLength?: number
}

/** A kind's channel facts without its events: all a credential, the stats route and the parser need. */
export type ChannelKindDeclaration = Omit<KindDeclaration, 'events'>

/** A declaration of channels without events (the edge's part of a policy; `withEvents` completes it for the gateway). */
export interface ChannelsDeclaration extends Omit<PolicyDeclaration, 'kinds'> {
  readonly kinds: Readonly<Record<string, ChannelKindDeclaration>>
}

/** The events of each kind of `C`, keyed by kind name. */
export type EventsFor<C extends ChannelsDeclaration> = { readonly [K in keyof C['kinds']]: Readonly<Record<string, EventDeclaration>> }

/** `C` with each kind's events from `E`: a whole policy declaration. */
export type WithEvents<C extends ChannelsDeclaration, E extends EventsFor<C>> = Omit<C, 'kinds'> & {
  readonly kinds: { readonly [K in keyof C['kinds']]: C['kinds'][K] & { readonly events: E[K] } }
}

type SegmentsOf<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | SegmentsOf<Rest> : never
export type KindName<D extends PolicyDeclaration> = keyof D['kinds'] & string
/** The segments of a kind's channel name, by name. */
export type SegmentValues<D extends PolicyDeclaration, K extends KindName<D>> = { readonly [S in SegmentsOf<D['kinds'][K]['pattern']>]: string }
/** A parsed channel: its kind and its segments (a kind named `kind` is refused, so the two never meet). */
export type ParsedChannel<D extends PolicyDeclaration, K extends KindName<D> = KindName<D>> = K extends K ? { readonly kind: K } & SegmentValues<D, K> : never
export type EventName<D extends PolicyDeclaration, K extends KindName<D>> = keyof D['kinds'][K]['events'] & string
/** The payload type of an event, inferred from its schema. */
export type EventData<D extends PolicyDeclaration, K extends KindName<D>, E extends EventName<D, K>> = z.infer<ReturnType<D['kinds'][K]['events'][E]['data']>>

/** An Ably capability: resource → operations. */
export type Capability = Record<string, string[]>

/** Who publishes or reads through the gateway: a verified user (admin when a role is in `ABLY_ADMIN_ROLES`), or a trusted server. */
export type Principal = ({ readonly kind: 'user'; readonly admin: boolean } & PolicyCaller) | { readonly kind: 'server' }

/**
 * What the token and revoke routes use of a policy: the least capability for a caller. Any `ChannelsPolicy` is one; so is the
 * credential facet alone (`credentialsOf`), which an edge token entry carries instead of the whole policy.
 */
export type CredentialPolicy = Pick<ChannelPolicy, 'capability'>

/**
 * What the app's own routes (token, stats, presence) use of a policy: everything but its events, which only the gateway
 * reads (through its own policy). Any `ChannelPolicy` is one; so is a policy of channels alone.
 */
export type ChannelsPolicy = Omit<ChannelPolicy, 'events' | 'acceptsEvent' | 'idRules' | 'invalidEvent'>

/** A derived policy. Bare `ChannelPolicy` is any policy (what the gateway and routes take); `ChannelPolicy<D>` keeps its types. */
// biome-ignore lint/suspicious/noExplicitAny: any declaration, so that every typed policy is assignable to the bare type
export interface ChannelPolicy<D extends PolicyDeclaration = any> {
  readonly declaration: D
  /** The kinds, in declaration order. */
  readonly kinds: readonly KindName<D>[]
  /** Each kind's name pattern. */
  readonly forms: { readonly [K in KindName<D>]: string }
  /** Each kind's events. */
  readonly events: { readonly [K in KindName<D>]: readonly EventName<D, K>[] }
  /** The first segments, one per Ably namespace to configure (for example persistence), in declaration order. */
  readonly namespaces: readonly string[]
  /** Parses a channel name into its kind and segments, or `undefined` when it is not exactly one kind's form. */
  parse(name: unknown): ParsedChannel<D> | undefined
  /** Formats a channel; throws `TypeError` on a segment outside its alphabet (a caller's bug, not bad input). */
  format<K extends KindName<D>>(kind: K, segments: SegmentValues<D, K>): string
  /** Whether `kind` accepts `event`. */
  acceptsEvent(kind: KindName<D>, event: unknown): event is string
  /**
   * Where a user shows as online: its own channel of the first kind whose only segment is its owner and whose browsers
   * have `presence` (the SMS inbox's `notifications:{userId}`); undefined when the policy has none.
   */
  presenceChannel(segment: string): string | undefined
  /** The kind of `presenceChannel`, if any. */
  readonly presenceKind: KindName<D> | undefined
  /** The owner or member segment of a kind, if any: it holds encoded ids (`channelSegment`). */
  boundSegment(kind: KindName<D>): string | undefined
  /** The payload id rules of an event: `[payload path, segment]` pairs. */
  idRules(kind: KindName<D>, event: string): readonly (readonly [path: string, segment: string])[]
  /** The least capability for `caller`: its owned and member channels and the public ones, with the declared browser operations. */
  capability(caller: PolicyCaller): Capability
  /** The channel's owner or member segment, '' for a public channel (stored as a message's `ownerId`). */
  ownerOf(channel: ParsedChannel<D>): string
  /** Whether `principal` may publish on `channel` through the gateway. */
  mayPublish(principal: Principal, channel: ParsedChannel<D>): boolean
  /** Whether `principal` may read `channel`'s stored history: what its credential may read, or what it may publish. */
  mayRead(principal: Principal, channel: ParsedChannel<D>): boolean
  /** `invalid_channel`, with what would have been valid (the forms and segment alphabets) beside `details`. */
  invalidChannel(details?: Record<string, unknown>): AppError
  /** `invalid_event`, with the events of each form beside `details`. */
  invalidEvent(details?: Record<string, unknown>): AppError
}
