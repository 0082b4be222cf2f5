using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace OrleansGateway.EdgeHost.ServerApi;

// The server API's request and response bodies (docs/server-api.md). Requests refuse unknown fields: a misspelt
// "dat" must not send a message with null data. Names are snake_case, like the WebSocket protocol's.

/// <summary>A message to one client.</summary>
/// <param name="To">The recipient's client id.</param>
/// <param name="Data">Any JSON value, passed through untouched (null when absent).</param>
/// <param name="From">The sender's name shown to the client; defaults to the API key's name.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record SendRequest(string? To, JsonElement Data, string? From = null);

/// <summary>Messages to several clients; each entry may carry its own idempotency <c>key</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record SendBatchRequest(IReadOnlyList<SendBatchItem>? Messages, string? From = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record SendBatchItem(string? To, JsonElement Data, string? Key = null);

/// <summary>A publication on one channel.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record PublishRequest(string? Ch, JsonElement Data, string? From = null);

/// <summary>Publications on several channels; each entry may carry its own idempotency <c>key</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record PublishBatchRequest(IReadOnlyList<PublishBatchItem>? Publications, string? From = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record PublishBatchItem(string? Ch, JsonElement Data, string? Key = null);

/// <summary>Closes every session of a client with <c>bye</c> <paramref name="Code"/> (default <c>policy</c>).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record DisconnectRequest(string? Code = null);

/// <summary>The seq the message got; <paramref name="Dup"/> when an idempotency key repeated an accepted send.</summary>
internal sealed record SendResponse(long Seq, bool Dup);

internal sealed record PublishResponse(long Off, bool Dup);

/// <summary>One entry per request entry, in request order: either <c>seq</c> or <c>error</c>.</summary>
internal sealed record SendBatchResponse(IReadOnlyList<SendBatchResult> Results, int Succeeded, int Failed);

internal sealed record SendBatchResult(int Index, string? To, long? Seq = null, bool? Dup = null, ProblemDetails? Error = null);

internal sealed record PublishBatchResponse(IReadOnlyList<PublishBatchResult> Results, int Succeeded, int Failed);

internal sealed record PublishBatchResult(int Index, string? Ch, long? Off = null, bool? Dup = null, ProblemDetails? Error = null);

/// <summary>How many sessions were told <c>bye</c>.</summary>
internal sealed record DisconnectResponse(int Sessions);

internal sealed record ClientPresenceResponse(string ClientId, bool Online, int Sessions, long Seq);

internal sealed record ChannelMembersResponse(string Ch, int Total, IReadOnlyList<ChannelMemberEntry> Members, string? Next);

internal sealed record ChannelMemberEntry(string ClientId, int Sessions);

internal sealed record ChannelStatsResponse(string Ch, int Clients, int Sessions);

/// <summary>A page of retained messages; <paramref name="Next"/> is the <c>after</c>/<c>since</c> of the next page, null on the last.</summary>
/// <param name="Recovered">True when every message after the asked position is still retained (the page starts right after it).</param>
internal sealed record HistoryResponse(string Ch, long Off, bool Recovered, IReadOnlyList<RetainedPublication> Publications, long? Next);

internal sealed record MailboxResponse(string ClientId, long Seq, bool Recovered, IReadOnlyList<RetainedMessage> Messages, long? Next);

/// <param name="At">When the mailbox accepted it, milliseconds since the Unix epoch.</param>
internal sealed record RetainedMessage(long Seq, string From, JsonElement Data, long At);

/// <param name="At">When the channel accepted it, milliseconds since the Unix epoch.</param>
internal sealed record RetainedPublication(long Off, string From, JsonElement Data, long At);

/// <summary>The cluster as this edge sees it.</summary>
/// <param name="Edge">The answering edge's id.</param>
/// <param name="Connections">Sum of <paramref name="Edges"/>' connections.</param>
internal sealed record ClusterInfoResponse(string Edge, IReadOnlyList<SiloInfo> Silos, IReadOnlyList<EdgeInfo> Edges, int Connections);

internal sealed record SiloInfo(string Address, string Name, string Status);

internal sealed record EdgeInfo(string Id, int Connections);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SendRequest))]
[JsonSerializable(typeof(SendBatchRequest))]
[JsonSerializable(typeof(PublishRequest))]
[JsonSerializable(typeof(PublishBatchRequest))]
[JsonSerializable(typeof(DisconnectRequest))]
[JsonSerializable(typeof(SendResponse))]
[JsonSerializable(typeof(PublishResponse))]
[JsonSerializable(typeof(SendBatchResponse))]
[JsonSerializable(typeof(PublishBatchResponse))]
[JsonSerializable(typeof(DisconnectResponse))]
[JsonSerializable(typeof(ClientPresenceResponse))]
[JsonSerializable(typeof(ChannelMembersResponse))]
[JsonSerializable(typeof(ChannelStatsResponse))]
[JsonSerializable(typeof(HistoryResponse))]
[JsonSerializable(typeof(MailboxResponse))]
[JsonSerializable(typeof(ClusterInfoResponse))]
[JsonSerializable(typeof(ProblemDetails))]
internal sealed partial class ServerApiJsonContext : JsonSerializerContext;
