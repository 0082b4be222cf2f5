using System.Collections.Concurrent;

namespace OrleansGateway.Bench.Baseline;

/// <summary>Mailboxes (per client: seq + its sessions) and channels (off + subscribed sessions), all in memory.</summary>
internal sealed class Hub
{
    public ConcurrentDictionary<string, Mailbox> Mailboxes { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, Topic> Topics { get; } = new(StringComparer.Ordinal);

    public Mailbox MailboxOf(string clientId) => Mailboxes.GetOrAdd(clientId, static _ => new Mailbox());

    public Topic TopicOf(string channel) => Topics.GetOrAdd(channel, static _ => new Topic());
}

internal sealed class Mailbox
{
    public object Gate { get; } = new();

    public long Seq { get; set; }

    public List<Session> Sessions { get; } = [];
}

internal sealed class Topic
{
    public object Gate { get; } = new();

    public long Offset { get; set; }

    public List<Session> Subscribers { get; } = [];
}
