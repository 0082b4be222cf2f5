using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;
using OrleansGateway.Grains;
using static OrleansGateway.EdgeHost.ServerApi.ServerApiRequests;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// Send, publish (one or a batch) and disconnect. A batch answers one entry per request entry, in order, each with its
/// position or its problem: invalid entries are refused, the valid ones are still sent. Entries for the same client or
/// channel are sent one after another in request order (their seq/off follow that order); different targets in parallel.
/// </summary>
internal static class ServerApiWrites
{
    public static Task<IResult> SendAsync(HttpContext http, ServerApiCluster cluster) =>
        WriteOneAsync(http, cluster, ServerApiJsonContext.Default.SendRequest, r => (r.To, r.From, r.Data), t => CheckClientId(t, "to"), SendOneAsync,
            a => TypedResults.Json(new SendResponse(a.Position, a.Duplicate), ServerApiJsonContext.Default.SendResponse), "send");

    public static Task<IResult> PublishAsync(HttpContext http, ServerApiCluster cluster) =>
        WriteOneAsync(http, cluster, ServerApiJsonContext.Default.PublishRequest, r => (r.Ch, r.From, r.Data), t => CheckChannel(t, "ch"), PublishOneAsync,
            a => TypedResults.Json(new PublishResponse(a.Position, a.Duplicate), ServerApiJsonContext.Default.PublishResponse), "publish");

    public static Task<IResult> SendBatchAsync(HttpContext http, ServerApiCluster cluster) =>
        WriteBatchAsync(http, cluster, ServerApiJsonContext.Default.SendBatchRequest, r => (r.Messages, r.From), "messages",
            m => (m.To, m.Data, m.Key), (i, t) => CheckClientId(t, $"messages[{i}].to"), SendOneAsync,
            (i, target, accepted, error) => new SendBatchResult(i, target, accepted?.Position, accepted?.Duplicate, error),
            results => TypedResults.Json(Summary(results, r => r.Error, (all, ok, failed) => new SendBatchResponse(all, ok, failed)), ServerApiJsonContext.Default.SendBatchResponse),
            "send");

    public static Task<IResult> PublishBatchAsync(HttpContext http, ServerApiCluster cluster) =>
        WriteBatchAsync(http, cluster, ServerApiJsonContext.Default.PublishBatchRequest, r => (r.Publications, r.From), "publications",
            p => (p.Ch, p.Data, p.Key), (i, t) => CheckChannel(t, $"publications[{i}].ch"), PublishOneAsync,
            (i, target, accepted, error) => new PublishBatchResult(i, target, accepted?.Position, accepted?.Duplicate, error),
            results => TypedResults.Json(Summary(results, r => r.Error, (all, ok, failed) => new PublishBatchResponse(all, ok, failed)), ServerApiJsonContext.Default.PublishBatchResponse),
            "publish");

    public static async Task<IResult> DisconnectAsync(HttpContext http, string clientId, ServerApiCluster cluster)
    {
        var code = Protocol.ByeCodes.Policy;
        if (!HasNoBody(http.Request))
        {
            var (request, problem) = await ReadBodyAsync(http, ServerApiJsonContext.Default.DisconnectRequest, cluster.Options.MaxBodyBytes);
            if (problem is not null)
            {
                return cluster.Answer(problem);
            }

            code = request!.Code ?? code;
        }

        if ((CheckClientId(clientId, "clientId") ?? CheckByeCode(code)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        try
        {
            var sessions = await cluster.Grains.GetGrain<IClientGrain>(clientId).DisconnectAsync(code);
            return TypedResults.Json(new DisconnectResponse(sessions), ServerApiJsonContext.Default.DisconnectResponse);
        }
        catch (Exception ex)
        {
            return cluster.Answer(cluster.ToProblem(ex, "disconnect"));
        }
    }

    private static async Task<Accepted> SendOneAsync(IGrainFactory grains, string to, string from, byte[] data, string? key)
    {
        var client = grains.GetGrain<IClientGrain>(to);
        return key is null ? new Accepted(await client.SendAsync(from, data), false) : await client.SendOnceAsync(from, data, key);
    }

    private static async Task<Accepted> PublishOneAsync(IGrainFactory grains, string channel, string from, byte[] data, string? key)
    {
        var grain = grains.GetGrain<IChannelGrain>(channel);
        return key is null ? new Accepted(await grain.PublishAsync(from, data), false) : await grain.PublishOnceAsync(from, data, key);
    }

    /// <summary>One send or publish: body, checks, then the call with or without the <c>Idempotency-Key</c> header.</summary>
    private static async Task<IResult> WriteOneAsync<TRequest>(
        HttpContext http,
        ServerApiCluster cluster,
        JsonTypeInfo<TRequest> type,
        Func<TRequest, (string? Target, string? From, JsonElement Data)> parts,
        Func<string?, string?> checkTarget,
        Func<IGrainFactory, string, string, byte[], string?, Task<Accepted>> call,
        Func<Accepted, IResult> answer,
        string name)
        where TRequest : class
    {
        var (request, problem) = await ReadBodyAsync(http, type, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var (target, from, data) = parts(request!);
        from ??= ServerApiAuth.Caller(http).Name;
        var key = http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        if ((checkTarget(target) ?? CheckFrom(from) ?? CheckKey(key, IdempotencyKeyHeader)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        try
        {
            return answer(await call(cluster.Grains, target!, from, Raw(data), key));
        }
        catch (Exception ex)
        {
            return cluster.Answer(cluster.ToProblem(ex, name));
        }
    }

    /// <summary>A batch: the whole request checked, then each entry checked and, if valid, sent; one result per entry.</summary>
    private static async Task<IResult> WriteBatchAsync<TRequest, TItem, TResult>(
        HttpContext http,
        ServerApiCluster cluster,
        JsonTypeInfo<TRequest> type,
        Func<TRequest, (IReadOnlyList<TItem>? Items, string? From)> parts,
        string field,
        Func<TItem, (string? Target, JsonElement Data, string? Key)> itemParts,
        Func<int, string?, string?> checkTarget,
        Func<IGrainFactory, string, string, byte[], string?, Task<Accepted>> call,
        Func<int, string?, Accepted?, ProblemDetails?, TResult> result,
        Func<TResult[], IResult> answer,
        string name)
        where TRequest : class
    {
        var (request, problem) = await ReadBodyAsync(http, type, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var (items, from) = parts(request!);
        from ??= ServerApiAuth.Caller(http).Name;
        if ((CheckBatch(http, items?.Count, cluster.Options.MaxBatchSize, field) ?? CheckFrom(from)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        var entries = items!.Select(itemParts).ToList();
        var results = new TResult[entries.Count];
        var valid = new List<int>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            if ((checkTarget(i, entries[i].Target) ?? CheckKey(entries[i].Key, $"{field}[{i}].key")) is { } error)
            {
                results[i] = result(i, entries[i].Target, null, ServerApiProblems.Invalid(error));
            }
            else
            {
                valid.Add(i);
            }
        }

        await ForEachTargetAsync(valid, i => entries[i].Target!, async i =>
        {
            var (target, data, key) = entries[i];
            try
            {
                results[i] = result(i, target, await call(cluster.Grains, target!, from, Raw(data), key), null);
            }
            catch (Exception ex)
            {
                results[i] = result(i, target, null, cluster.ToProblem(ex, name));
            }
        });

        return answer(results);
    }

    private static TResponse Summary<TResult, TResponse>(TResult[] results, Func<TResult, ProblemDetails?> error, Func<TResult[], int, int, TResponse> create)
    {
        var failed = results.Count(r => error(r) is not null);
        return create(results, results.Length - failed, failed);
    }

    private static string? CheckBatch(HttpContext http, int? count, int max, string field) =>
        http.Request.Headers.ContainsKey(IdempotencyKeyHeader) ? $"a batch takes a key per entry ({field}[i].key), not the {IdempotencyKeyHeader} header"
        : count is null or 0 ? $"{field} must have at least one entry"
        : count > max ? $"{field} has {count} entries; at most {max} per batch"
        : null;

    /// <summary>Runs <paramref name="call"/> for each entry: entries of one target in order, targets in parallel.</summary>
    private static Task ForEachTargetAsync(List<int> entries, Func<int, string> target, Func<int, Task> call) =>
        Task.WhenAll(entries.GroupBy(target, StringComparer.Ordinal).Select(async group =>
        {
            foreach (var i in group)
            {
                await call(i);
            }
        }));
}
