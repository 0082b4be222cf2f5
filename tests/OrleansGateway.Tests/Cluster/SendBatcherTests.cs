using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Cluster;

/// <summary>
/// The edge's gathering of one-way sends into calls to a silo's <see cref="ISendIngress"/>: what arrives while a call is
/// being made leaves together in the next, batches are bounded, and a batch that cannot leave fails its tickets at once.
/// The ingress here holds its first call until the test releases it, which is what makes "arrived meanwhile" exact.
/// </summary>
public sealed class SendBatcherTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly SendTickets _tickets = new("edge-1", TimeSpan.FromSeconds(30), new FakeTimeProvider());

    private static EdgeMetrics Metrics => new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    public void Dispose() => _tickets.Dispose();

    [Fact]
    public async Task Enqueue_SendsArrivingWhileACallIsMade_LeaveTogetherInTheNextCall()
    {
        var ingress = new HeldIngress();
        var batcher = new SendBatcher(ingress, _tickets, Metrics);

        batcher.Enqueue(Send("a"));
        await ingress.FirstCallEntered.WaitAsync(Wait);
        batcher.Enqueue(Send("b"));
        batcher.Enqueue(Send("c"));
        batcher.Enqueue(Send("d"));
        ingress.Release();

        await ingress.WaitForSendsAsync(4);
        Assert.Equal(["a", "b,c,d"], ingress.Calls);
        Assert.All(ingress.EdgeIds, id => Assert.Equal("edge-1", id));
    }

    [Fact]
    public async Task Enqueue_MoreThanMaxSendsAtOnce_SplitIntoCallsOfAtMostMaxInOrder()
    {
        var ingress = new HeldIngress();
        var batcher = new SendBatcher(ingress, _tickets, Metrics);
        batcher.Enqueue(Send("first"));
        await ingress.FirstCallEntered.WaitAsync(Wait);

        var count = SendBatcher.MaxSends * 2 + 10;
        for (var i = 0; i < count; i++)
        {
            batcher.Enqueue(Send($"s{i}"));
        }

        ingress.Release();
        await ingress.WaitForSendsAsync(count + 1);

        Assert.Equal([1, SendBatcher.MaxSends, SendBatcher.MaxSends, 10], ingress.Batches.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"s{i}"), ingress.Batches.Skip(1).SelectMany(b => b).Select(s => s.To));
    }

    [Fact]
    public async Task Enqueue_PayloadsOverMaxBytesTogether_SplitByBytesAndALargerOneGoesAlone()
    {
        var ingress = new HeldIngress();
        var batcher = new SendBatcher(ingress, _tickets, Metrics);
        batcher.Enqueue(Send("first"));
        await ingress.FirstCallEntered.WaitAsync(Wait);

        batcher.Enqueue(Send("big1", SendBatcher.MaxBytes / 2 + 1));
        batcher.Enqueue(Send("big2", SendBatcher.MaxBytes / 2 + 1));
        batcher.Enqueue(Send("huge", SendBatcher.MaxBytes * 2));
        batcher.Enqueue(Send("small"));
        ingress.Release();
        await ingress.WaitForSendsAsync(5);

        Assert.Equal(["first", "big1", "big2", "huge", "small"], ingress.Calls);
    }

    [Fact]
    public async Task Send_IngressCallThrows_EveryTicketInTheBatchFailsAtOnce()
    {
        var batcher = new SendBatcher(new FailingIngress(synchronously: true), _tickets, Metrics);
        var first = new RecordingSend();
        var second = new RecordingSend();

        batcher.Enqueue(Send("a", ticket: _tickets.Issue(first)));
        batcher.Enqueue(Send("b", ticket: _tickets.Issue(second)));

        await Task.WhenAll(first.Task, second.Task).WaitAsync(Wait);
        Assert.Equal(["no answer InvalidOperationException"], first.Seen);
        Assert.Equal(["no answer InvalidOperationException"], second.Seen);
        Assert.Equal(0, _tickets.Count);
    }

    [Fact]
    public async Task Send_IngressCallFaultsLater_EveryTicketInTheBatchFails()
    {
        var batcher = new SendBatcher(new FailingIngress(synchronously: false), _tickets, Metrics);
        var send = new RecordingSend();

        batcher.Enqueue(Send("a", ticket: _tickets.Issue(send)));

        await send.Task.WaitAsync(Wait);
        Assert.Equal(["no answer InvalidOperationException"], send.Seen);
    }

    private static OutboundSend Send(string to, int bytes = 8, long ticket = 0) => new(to, "alice", new byte[bytes], null, ticket);

    /// <summary>Records every call; holds the first one until <see cref="Release"/>.</summary>
    private sealed class HeldIngress : ISendIngress
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release = new();
        private readonly List<OutboundSend[]> _batches = [];
        private readonly List<string> _edgeIds = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _sends;

        public Task FirstCallEntered => _entered.Task;

        public IReadOnlyList<OutboundSend[]> Batches
        {
            get
            {
                lock (_batches)
                {
                    return [.. _batches];
                }
            }
        }

        public IEnumerable<string> Calls => Batches.Select(b => string.Join(",", b.Select(s => s.To)));

        public IEnumerable<string> EdgeIds
        {
            get
            {
                lock (_batches)
                {
                    return [.. _edgeIds];
                }
            }
        }

        public void Release() => _release.Set();

        public async Task WaitForSendsAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Wait);
            while (true)
            {
                Task changed;
                lock (_batches)
                {
                    if (_sends >= count)
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                await changed.WaitAsync(timeout.Token);
            }
        }

        public Task SendManyAsync(string edgeId, OutboundSend[] sends)
        {
            TaskCompletionSource changed;
            lock (_batches)
            {
                _batches.Add(sends);
                _edgeIds.Add(edgeId);
                _sends += sends.Length;
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
            if (_entered.TrySetResult())
            {
                // The first call: the batcher's flush is inside it, as while Orleans writes a message.
                _release.Wait(Wait);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class FailingIngress(bool synchronously) : ISendIngress
    {
        public Task SendManyAsync(string edgeId, OutboundSend[] sends) => synchronously
            ? throw new InvalidOperationException("no gateway")
            : FailLaterAsync();

        private static async Task FailLaterAsync()
        {
            await Task.Yield();
            throw new InvalidOperationException("no gateway");
        }
    }

    private sealed class RecordingSend : PendingSend
    {
        public List<string> Seen { get; } = [];

        protected override void OnAnswer(SendAck ack) => Seen.Add($"answer {ack.Outcome}");

        protected override void OnNoAnswer(Exception exception) => Seen.Add($"no answer {exception.GetType().Name}");
    }
}
