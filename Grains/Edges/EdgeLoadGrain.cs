namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Every edge's last reported connection count, each valid for the TTL its edge gave. Memory only, on purpose: after a
/// silo crash or a graceful stop the reports are back within one report interval, and until then an edge sees fewer
/// edges than there are, which makes the mean larger and shedding less likely, never more.
/// </summary>
internal sealed class EdgeLoadGrain(TimeProvider time) : Grain, IEdgeLoadGrain
{
    private readonly Dictionary<string, (EdgeLoad Load, DateTimeOffset ExpiresAt)> _reports = new(StringComparer.Ordinal);

    public Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, TimeSpan ttl) =>
        ReportLoadAsync(new EdgeLoad(edgeId, connections, Rebalances: true), ttl);

    public Task<EdgeLoad[]> ReportLoadAsync(EdgeLoad load, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        _reports[load.EdgeId] = (load, now + ttl);
        return Task.FromResult(Live(now));
    }

    public Task<EdgeLoad[]> GetLoadsAsync() => Task.FromResult(Live(time.GetUtcNow()));

    private EdgeLoad[] Live(DateTimeOffset now)
    {
        var live = new List<EdgeLoad>(_reports.Count);
        foreach (var (id, report) in _reports)
        {
            if (report.ExpiresAt > now)
            {
                live.Add(report.Load);
            }
            else
            {
                _reports.Remove(id); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }

        return live.ToArray();
    }
}
