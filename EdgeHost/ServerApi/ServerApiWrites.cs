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
    public static async Task<IResult> SendAsync(HttpContext http, ServerApiCluster cluster)
    {
        var (request, problem) = await ReadBodyAsync(http, ServerApiJsonContext.Default.SendRequest, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var from = request!.From ?? ServerApiAuth.Caller(http).Name;
        var key = http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        if ((CheckClientId(request.To, "to") ?? CheckFrom(from) ?? CheckKey(key, IdempotencyKeyHeader)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        try
        {
            var accepted = await SendOneAsync(cluster.Grains, request.To!, from, Raw(request.Data), key);
            return TypedResults.Json(new SendResponse(accepted.Position, accepted.Duplicate), ServerApiJsonContext.Default.SendResponse);
        }
        catch (Exception ex)
        {
            return cluster.Answer(cluster.ToProblem(ex, "send"));
        }
    }

    public static async Task<IResult> SendBatchAsync(HttpContext http, ServerApiCluster cluster)
    {
        var (request, problem) = await ReadBodyAsync(http, ServerApiJsonContext.Default.SendBatchRequest, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var from = request!.From ?? ServerApiAuth.Caller(http).Name;
        if ((CheckBatch(http, request.Messages?.Count, cluster.Options.MaxBatchSize, "messages") ?? CheckFrom(from)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        var items = request.Messages!;
        var results = new SendBatchResult[items.Count];
        var valid = new List<int>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if ((CheckClientId(item.To, $"messages[{i}].to") ?? CheckKey(item.Key, $"messages[{i}].key")) is { } error)
            {
                results[i] = new SendBatchResult(i, item.To, Error: ServerApiProblems.Invalid(error));
            }
            else
            {
                valid.Add(i);
            }
        }

        await ForEachTargetAsync(valid, i => items[i].To!, async i =>
        {
            try
            {
                var accepted = await SendOneAsync(cluster.Grains, items[i].To!, from, Raw(items[i].Data), items[i].Key);
                results[i] = new SendBatchResult(i, items[i].To, accepted.Position, accepted.Duplicate);
            }
            catch (Exception ex)
            {
                results[i] = new SendBatchResult(i, items[i].To, Error: cluster.ToProblem(ex, "send"));
            }
        });

        var failed = results.Count(r => r.Error is not null);
        return TypedResults.Json(new SendBatchResponse(results, results.Length - failed, failed), ServerApiJsonContext.Default.SendBatchResponse);
    }

    public static async Task<IResult> PublishAsync(HttpContext http, ServerApiCluster cluster)
    {
        var (request, problem) = await ReadBodyAsync(http, ServerApiJsonContext.Default.PublishRequest, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var from = request!.From ?? ServerApiAuth.Caller(http).Name;
        var key = http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        if ((CheckChannel(request.Ch, "ch") ?? CheckFrom(from) ?? CheckKey(key, IdempotencyKeyHeader)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        try
        {
            var accepted = await PublishOneAsync(cluster.Grains, request.Ch!, from, Raw(request.Data), key);
            return TypedResults.Json(new PublishResponse(accepted.Position, accepted.Duplicate), ServerApiJsonContext.Default.PublishResponse);
        }
        catch (Exception ex)
        {
            return cluster.Answer(cluster.ToProblem(ex, "publish"));
        }
    }

    public static async Task<IResult> PublishBatchAsync(HttpContext http, ServerApiCluster cluster)
    {
        var (request, problem) = await ReadBodyAsync(http, ServerApiJsonContext.Default.PublishBatchRequest, cluster.Options.MaxBodyBytes);
        if (problem is not null)
        {
            return cluster.Answer(problem);
        }

        var from = request!.From ?? ServerApiAuth.Caller(http).Name;
        if ((CheckBatch(http, request.Publications?.Count, cluster.Options.MaxBatchSize, "publications") ?? CheckFrom(from)) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        var items = request.Publications!;
        var results = new PublishBatchResult[items.Count];
        var valid = new List<int>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if ((CheckChannel(item.Ch, $"publications[{i}].ch") ?? CheckKey(item.Key, $"publications[{i}].key")) is { } error)
            {
                results[i] = new PublishBatchResult(i, item.Ch, Error: ServerApiProblems.Invalid(error));
            }
            else
            {
                valid.Add(i);
            }
        }

        await ForEachTargetAsync(valid, i => items[i].Ch!, async i =>
        {
            try
            {
                var accepted = await PublishOneAsync(cluster.Grains, items[i].Ch!, from, Raw(items[i].Data), items[i].Key);
                results[i] = new PublishBatchResult(i, items[i].Ch, accepted.Position, accepted.Duplicate);
            }
            catch (Exception ex)
            {
                results[i] = new PublishBatchResult(i, items[i].Ch, Error: cluster.ToProblem(ex, "publish"));
            }
        });

        var failed = results.Count(r => r.Error is not null);
        return TypedResults.Json(new PublishBatchResponse(results, results.Length - failed, failed), ServerApiJsonContext.Default.PublishBatchResponse);
    }

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
