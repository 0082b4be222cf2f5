namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// Pairs of resilient clients sending to each other at a steady rate; accounts for every message: none lost, none
/// delivered twice to the application, none out of order, and every <c>err</c> answer counted by code.
/// </summary>
internal sealed class Traffic : IAsyncDisposable
{
    private readonly List<ResilientClient> _clients;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _marks = [];
    private Task? _driver;

    private Traffic(List<ResilientClient> clients) => _clients = clients;

    public IReadOnlyList<ResilientClient> Clients => _clients;

    public static async Task<Traffic> StartAsync(GatewayCluster cluster, int clients, Func<int, Func<Uri>> pickEdge, string run)
    {
        var list = Enumerable.Range(0, clients)
            .Select(i => new ResilientClient($"t{i}-{run}", cluster.Tokens.Hs256($"t{i}-{run}"), pickEdge(i)))
            .ToList();
        foreach (var batch in list.Chunk(20))
        {
            await Task.WhenAll(batch.Select(c => c.StartAsync()));
        }

        return new Traffic(list);
    }

    /// <summary>Each client sends to its neighbour every <paramref name="period"/>.</summary>
    public void Run(TimeSpan period)
    {
        _driver = Task.Run(async () =>
        {
            var n = 0;
            while (!_stop.IsCancellationRequested)
            {
                n++;
                for (var i = 0; i < _clients.Count; i++)
                {
                    var to = _clients[(i + 1) % _clients.Count];
                    await _clients[i].TrySendAsync(to.ClientId, $"{_clients[i].ClientId}#{n}");
                }

                await Task.Delay(period);
            }
        });
    }

    public async Task StopSendingAsync()
    {
        await _stop.CancelAsync();
        if (_driver is not null)
        {
            await _driver.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public int AckedCount => _clients.Sum(c => c.Acked.Count);

    /// <summary>Notes a step of the test (a silo stopping, an edge draining) for the failure explanation.</summary>
    public void Mark(string step)
    {
        lock (_marks)
        {
            _marks.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {step}");
        }
    }

    /// <summary><c>err</c> answers to all clients' sends, by code.</summary>
    public IReadOnlyDictionary<string, int> Errors => _clients
        .SelectMany(c => c.Errors)
        .GroupBy(e => e.Key)
        .ToDictionary(g => g.Key, g => g.Sum(e => e.Value));

    /// <summary>
    /// Waits until every acknowledged message reached its recipient; then asserts nothing was lost, nothing was
    /// delivered twice to the application (a repeated payload, under any seq), everything arrived in send order, and no
    /// <c>err</c> came whose code is not in <paramref name="expectedErrors"/> (code → why the scenario yields it). Returns
    /// the counts (acknowledged, re-sent, dup acknowledgements, errs by code) for the test's output.
    /// </summary>
    public async Task<string> AssertNothingLostAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? expectedErrors = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<string> missing;
        while (true)
        {
            missing = Missing();
            if (missing.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        var report = Report();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged message(s) never arrived, e.g. {string.Join(", ", missing.Take(5))}; {report}; {Explain(missing)}");
        var anomalies = _clients.SelectMany(c => c.Anomalies.Select(a => $"{c.ClientId}: {a}")).ToList();
        Assert.True(anomalies.Count == 0, $"{string.Join("; ", anomalies.Take(10))}; {report}");

        // Exactly once: re-sent messages (same key) were taken once, so no payload reaches the application twice.
        Assert.True(_clients.Sum(c => c.RepeatedPayloads) == 0, $"payloads delivered twice: {report}");

        // In send order per sender (Guarantee 1), each once: each recipient sees its neighbour's numbers strictly
        // increasing — but for sends retried after err unavailable, which later sends may overtake.
        var retried = _clients.SelectMany(c => c.RetriedAfterErr).ToHashSet();
        foreach (var client in _clients)
        {
            var numbers = client.Received.Where(p => !retried.Contains(p)).Select(p => int.Parse(p[(p.IndexOf('#') + 1)..])).ToList();
            var strictlyIncreasing = numbers.Zip(numbers.Skip(1)).All(p => p.First < p.Second);
            Assert.True(strictlyIncreasing, $"{client.ClientId} received out of order or twice: {string.Join(",", numbers.Take(50))}");
        }

        var unexpected = Errors.Where(e => expectedErrors?.ContainsKey(e.Key) != true).ToList();
        Assert.True(unexpected.Count == 0, $"err answers this scenario should not produce: {string.Join(", ", unexpected.Select(e => $"{e.Key} x{e.Value}"))}; {report}");
        return report;
    }

    /// <summary>Acknowledged, re-sent and dup-acknowledged messages and errs by code, for the test output.</summary>
    public string Report()
    {
        var errors = Errors;
        return $"acknowledged {AckedCount}, re-sent {_clients.Sum(c => c.Resent)}, acknowledged as dup {_clients.Sum(c => c.DupAcks)}, " +
            $"duplicate seqs dropped {_clients.Sum(c => c.Duplicates)}, payloads delivered twice {_clients.Sum(c => c.RepeatedPayloads)}, " +
            $"errs by code [{(errors.Count == 0 ? "none" : string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key}: {e.Value}")))}]";
    }

    /// <summary>What the recipients of missing messages saw: enough to tell a lost push from a lost mailbox.</summary>
    private string Explain(List<string> missing)
    {
        var senders = _clients.ToDictionary(c => c.ClientId);
        var bySender = _clients.Select((c, i) => (c.ClientId, Recipient: _clients[(i + 1) % _clients.Count])).ToDictionary(p => p.ClientId, p => p.Recipient);
        return string.Join("; ", missing
            .GroupBy(p => p[..p.IndexOf('#')])
            .Select(g =>
            {
                var recipient = bySender[g.Key];
                var acked = senders[g.Key].AckedAt(g.First());
                var received = recipient.Received;
                return $"{g.Count()} from {g.Key} to {recipient.ClientId}, first acked {acked:HH:mm:ss.fff} (connections {recipient.Connections}, duplicates {recipient.Duplicates}, " +
                    $"not recovered {recipient.NotRecovered}, last received {received.LastOrDefault()}, anomalies [{string.Join(", ", recipient.Anomalies.Take(5))}], " +
                    $"events [{string.Join(", ", recipient.Events.TakeLast(12))}])";
            })) + $"; steps [{string.Join(", ", Marks())}]";
    }

    private List<string> Marks()
    {
        lock (_marks)
        {
            return [.. _marks];
        }
    }

    private List<string> Missing()
    {
        var received = _clients.SelectMany(c => c.Received).ToHashSet();
        return _clients.SelectMany(c => c.Acked).Where(p => !received.Contains(p)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await StopSendingAsync();
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
    }
}
