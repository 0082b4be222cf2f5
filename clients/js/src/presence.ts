/** Channel presence (docs/protocol.md, "Extension: channel presence"). */

/** One member of a channel: a client id with its subscribed sessions (tabs, devices) on all edges. */
export interface ChannelMember {
  client: string;
  sessions: number;
}

/** A page of a channel's members, ordered by client id. */
export interface PresencePage {
  /** Members in the channel now (all pages). */
  total: number;
  members: ChannelMember[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** A client joined (its first session anywhere) or left (its last session, after the server's debounce) a channel. */
export interface PresenceEvent {
  type: 'join' | 'leave';
  ch: string;
  client: string;
}

/** Reads the `ok` of a `presence` frame. */
export function toPresencePage(frame: Record<string, unknown>): PresencePage {
  const members = Array.isArray(frame.members) ? frame.members as Array<Record<string, unknown>> : [];
  const page: PresencePage = {
    total: Number(frame.total ?? 0),
    members: members.map(m => ({ client: String(m.client), sessions: Number(m.sessions) })),
  };
  if (typeof frame.next === 'string') {
    page.next = frame.next;
  }

  return page;
}
