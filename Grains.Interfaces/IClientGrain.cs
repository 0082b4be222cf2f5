namespace OrleansGateway.Grains;

/// <summary>
/// A client as backends see it (key = client id, the JWT <c>sub</c>): send it a message, disconnect it, ask whether it
/// is online. Any Orleans client of the cluster may call it. What edges and silos call among themselves (attach,
/// detach, gap repair, re-push) is <see cref="IClientSessionGrain"/>, on the same grain.
/// </summary>
/// <remarks>
/// The wire alias is new with this contract: backends built against it need silos of the same release or later
/// (upgrade the gateway before its backends). Backends built against the previous contract keep working: their calls
/// carry the old alias, which <see cref="IClientSessionGrain"/> still answers (docs/operations.md, "Wire compatibility").
/// </remarks>
[Alias("ogw.backend.IClientGrain")]
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends a message to the client's mailbox and pushes it to every edge holding one of its sessions. When this
    /// returns, the message is retained: it reaches the client now or when it resumes within retention.
    /// </summary>
    /// <param name="from">Sender: a backend's name, or a client id.</param>
    /// <param name="data">Payload as raw UTF-8 JSON.</param>
    /// <returns>The seq assigned to the message.</returns>
    [Alias("Send")]
    Task<long> SendAsync(string from, byte[] data);

    /// <summary>
    /// As <see cref="SendAsync(string, byte[])"/>, but accepted at most once per (<paramref name="from"/>,
    /// <paramref name="key"/>) within the de-duplication window (docs/protocol.md, "Idempotency keys"): a repeat is
    /// answered with the originally assigned seq and <see cref="Accepted.Duplicate"/> set, and is not delivered again.
    /// A key reused with different data throws <see cref="IdempotencyKeyReusedException"/>.
    /// </summary>
    /// <param name="from">Sender: a backend's name, or a client id.</param>
    /// <param name="data">Payload as raw UTF-8 JSON.</param>
    /// <param name="key">1–64 characters chosen by the sender, unique per sender for what it means to be one message.</param>
    [Alias("SendOnce")]
    Task<Accepted> SendOnceAsync(string from, byte[] data, string key);

    /// <summary>Retained messages after <paramref name="afterSeq"/> (bounded by retention), for backends resyncing a client.</summary>
    [Alias("ReadMailbox")]
    Task<StreamReplay> ReadMailboxAsync(long afterSeq);

    /// <summary>Closes every session of the client with <c>bye</c> <paramref name="code"/>. Returns how many were told.</summary>
    [Alias("Disconnect")]
    Task<int> DisconnectAsync(string code);

    /// <summary>Whether the client is online and how many sessions it has.</summary>
    [Alias("GetPresence")]
    Task<Presence> GetPresenceAsync();
}
