using System.Security.Cryptography;
using System.Text.Json;

namespace OrleansGateway.Client;

/// <summary>
/// Exactly once, end to end (docs/protocol.md, <c>key</c>): every <c>send</c>/<c>pub</c>/<c>up</c> carries an idempotency
/// key, so the client can send it again whenever it cannot know whether the gateway took it (the connection ended
/// before the answer, <c>err unavailable</c>) and the gateway takes it once. The Task completes once: with the
/// gateway's receipt, or with <c>timeout</c> past its deadline, or with the gateway's refusal (<c>bad_request</c>, …).
/// </summary>
public sealed partial class GatewayClient
{
    /// <summary>The longest key the gateway accepts.</summary>
    public const int MaxKeyLength = 64;

    /// <summary>Random per client instance, so two clients (or a restarted app) of one user never share a key.</summary>
    private readonly string _keyPrefix = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
    private long _nextKey;

    /// <summary>Sends a direct message; completes once the recipient's mailbox took it (sent again with its key until then).</summary>
    public Task<SendReceipt> SendAsync(string to, JsonElement data, CancellationToken cancellationToken = default) =>
        SendAsync(to, data, RequestOptions.Default, cancellationToken);

    /// <inheritdoc cref="SendAsync(string, JsonElement, CancellationToken)"/>
    public Task<SendReceipt> SendAsync(string to, JsonElement data, RequestOptions options, CancellationToken cancellationToken = default) =>
        KeyedAsync("send", w => { w.WriteString("to", to); WriteData(w, data); }, options, cancellationToken);

    /// <summary>Publishes on a channel; completes once the channel took it (sent again with its key until then).</summary>
    public Task<SendReceipt> PublishAsync(string channel, JsonElement data, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, data, RequestOptions.Default, cancellationToken);

    /// <inheritdoc cref="PublishAsync(string, JsonElement, CancellationToken)"/>
    public Task<SendReceipt> PublishAsync(string channel, JsonElement data, RequestOptions options, CancellationToken cancellationToken = default) =>
        KeyedAsync("pub", w => { w.WriteString("ch", channel); WriteData(w, data); }, options, cancellationToken);

    /// <summary>Sends a message to backends (Kafka); completes once the broker acknowledged it (sent again with its key until then).</summary>
    public Task<SendReceipt> UpAsync(string topic, JsonElement data, CancellationToken cancellationToken = default) =>
        UpAsync(topic, data, RequestOptions.Default, cancellationToken);

    /// <inheritdoc cref="UpAsync(string, JsonElement, CancellationToken)"/>
    public Task<SendReceipt> UpAsync(string topic, JsonElement data, RequestOptions options, CancellationToken cancellationToken = default) =>
        KeyedAsync("up", w => { w.WriteString("topic", topic); WriteData(w, data); }, options, cancellationToken);

    private async Task<SendReceipt> KeyedAsync(string type, Action<System.Text.Json.Utf8JsonWriter> body, RequestOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Key is { Length: 0 or > MaxKeyLength })
        {
            throw new GatewayException("bad_request", $"a key has 1 to {MaxKeyLength} chars");
        }

        if (options.Deadline is { } deadline && deadline <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Deadline must be positive.");
        }

        var key = options.Key ?? $"{_keyPrefix}.{Interlocked.Increment(ref _nextKey)}";
        SendReceipt? receipt = null;
        await RequestAsync(
            id => Frame(type, id, w => { w.WriteString("key", key); body(w); }),
            reply => receipt = SendReceipt.From(key, reply),
            cancellationToken,
            key,
            options.Deadline);
        return receipt!;
    }

    /// <summary>The connection ended: keyed requests written on it go back to the queue, in creation order, ahead of newer ones.</summary>
    private void RequeueKeyed()
    {
        lock (_gate)
        {
            foreach (var pending in _pending.Values.Where(p => p.Sent && p.Key is not null).OrderByDescending(p => p.Order))
            {
                pending.Sent = false;
                _queue.AddFirst(pending);
            }
        }
    }

    /// <summary>
    /// A keyed request answered <c>err unavailable</c> (maybe taken, maybe not) or <c>rate_limited</c> (not taken, slow
    /// down): the same frame again after a backoff. Such a retry may be overtaken by later requests.
    /// </summary>
    private bool RetryIfUnavailable(Pending pending, JsonElement frame)
    {
        if (pending.Key is null || frame.GetProperty("t").GetString() != "err" || frame.GetProperty("code").GetString() is not ("unavailable" or "rate_limited"))
        {
            return false;
        }

        lock (_gate)
        {
            if (pending.Completion.Task.IsCompleted)
            {
                return true; // past its deadline meanwhile
            }

            pending.Sent = false;
            _pending[pending.Id] = pending;
        }

        _ = RetryLaterAsync(pending, Backoff(pending.Retries++));
        return true;
    }

    private async Task RetryLaterAsync(Pending pending, TimeSpan delay)
    {
        await DelayAsync(delay);
        System.Net.WebSockets.ClientWebSocket? sendNow = null;
        lock (_gate)
        {
            if (_stop.IsCancellationRequested || pending.Completion.Task.IsCompleted || !_pending.ContainsKey(pending.Id) || pending.Sent)
            {
                return;
            }

            if (_connected && _queue.Count == 0)
            {
                pending.Sent = true;
                sendNow = _socket;
            }
            else
            {
                // Queued among the requests waiting for a connection, at its place by creation order.
                var after = _queue.Last;
                while (after is not null && after.Value.Order > pending.Order)
                {
                    after = after.Previous;
                }

                if (after is null)
                {
                    _queue.AddFirst(pending);
                }
                else
                {
                    _queue.AddAfter(after, pending);
                }
            }
        }

        if (sendNow is not null)
        {
            await TrySendAsync(sendNow, pending.Frame);
        }
    }
}

/// <summary>Per-call options of <c>SendAsync</c>/<c>PublishAsync</c>/<c>UpAsync</c>.</summary>
public sealed record RequestOptions
{
    internal static readonly RequestOptions Default = new();

    /// <summary>
    /// What makes this one message, 1–64 chars, unique per sender: a request repeated with the same key (after a lost
    /// answer, a reconnect, an app restart) is taken once within the gateway's window. Default: one the client makes.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>Give up (<c>timeout</c>) when not taken within this, retries included. Default <see cref="GatewayClientOptions.RequestTimeout"/>.</summary>
    public TimeSpan? Deadline { get; init; }
}

/// <summary>
/// The gateway took a <c>send</c>/<c>pub</c>/<c>up</c>: <see cref="Duplicate"/> when it had taken this key before (not
/// delivered again); <see cref="Seq"/> (send) or <see cref="Offset"/> (pub) when the gateway says it.
/// </summary>
public sealed record SendReceipt(string Key, bool Duplicate, long? Seq, long? Offset)
{
    internal static SendReceipt From(string key, JsonElement ok) => new(
        key,
        ok.TryGetProperty("dup", out var dup) && dup.ValueKind == JsonValueKind.True,
        ok.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number ? seq.GetInt64() : null,
        ok.TryGetProperty("off", out var off) && off.ValueKind == JsonValueKind.Number ? off.GetInt64() : null);
}
