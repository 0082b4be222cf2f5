using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// The base of client and channel grains: a grain holding a retained message log (a client's mailbox, a channel's
/// history) that pushes what is appended to the edges attached to it. One part per file:
/// <list type="bullet">
/// <item>this file: the log, the edges it pushes to (<see cref="EdgeSessions"/>) and the keep-alive: the grain stays
/// while edges are attached (that state lives only here) or while retained messages are within their age;</item>
/// <item><c>MessageLogGrain.Durability.cs</c>: loading the log and persisting each append when durability is on;</item>
/// <item><c>MessageLogGrain.Inbound.cs</c>: backend messages from the implicit stream, de-duplicated by position;</item>
/// <item><c>MessageLogGrain.Idempotency.cs</c>: keyed sends and publications, accepted once per (sender, key) within a window;</item>
/// <item><c>MessageLogGrain.Migration.cs</c>: carrying log, edges, inbound positions and keys to another silo on a graceful stop.</item>
/// </list>
/// Parts of one class, not objects of their own: a silo holds hundreds of thousands of idle grains, and each part
/// object would cost an object header and copies of the references it needs, per grain.
/// </summary>
internal abstract partial class MessageLogGrain : Grain, ITrackedGrain
{
    private readonly RetentionOptions _retention;
    private readonly TimeProvider _time;
    private readonly EdgeDirectory _directory;
    private bool _repushPending;

    protected MessageLogGrain(RetentionOptions retention, TimeProvider time, EdgeDirectory edges, GrainMetrics metrics, MessageLogStoreFactory stores)
    {
        _retention = retention;
        _time = time;
        _directory = edges;
        _stores = stores;
        Metrics = metrics;
        MessageLog = NewLog(null);
        Edges = new EdgeSessions(edges, this);
    }

    /// <summary>The retained messages: the mailbox of a client, the history of a channel.</summary>
    protected MessageLog MessageLog { get; private set; }

    /// <summary>The edges this grain pushes to, with the sessions attached through each.</summary>
    protected EdgeSessions Edges { get; }

    protected GrainMetrics Metrics { get; }

    /// <summary>The metric dimension of this grain kind (<c>client</c>, <c>channel</c>).</summary>
    protected abstract string Kind { get; }

    protected string Key => this.GetPrimaryKeyString();

    GrainId ITrackedGrain.GrainId => this.GetGrainId();

    bool ITrackedGrain.IsChannel => IsChannel;

    private bool IsChannel => Kind == "channel";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await LoadDurableAsync();
        UpdateKeepAlive();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Whatever happens next (migration re-tracks on the new silo), this activation no longer pushes from here.
        Edges.UntrackAll();
        _directory.CancelRepush(this.GetGrainId()); // a poke would only re-activate it
        MigrateIfShuttingDown(reason);
        return Task.CompletedTask;
    }

    /// <summary>
    /// After a push (<paramref name="droppedLapsedEdges"/>: what <see cref="EdgeSessions"/>' push returned): with no edge
    /// attached the message just waits in retention, so the grain must outlive it. The keep-alive is only touched when
    /// something changed: this runs once per message.
    /// </summary>
    protected void Pushed(bool droppedLapsedEdges)
    {
        if (droppedLapsedEdges)
        {
            UpdateKeepAlive();
        }
        else if (Edges.EdgeCount == 0)
        {
            DelayDeactivation(_retention.MaxAge);
        }
    }

    /// <summary>
    /// After pushing a message: the silo's sweep will have this grain push its newest message once more, so a
    /// lost push that was the last before a quiet period is repaired within a sweep interval.
    /// </summary>
    protected void RepushLater()
    {
        if (!_repushPending && Edges.EdgeCount > 0)
        {
            _repushPending = true;
            _directory.RepushLater(this.GetGrainId(), IsChannel);
        }
    }

    /// <summary>
    /// The sweep's re-push is being served: later pushes ask for a new one. The newest message, when there is one and
    /// an edge to push it to.
    /// </summary>
    protected StreamMessage? RepushServed()
    {
        _repushPending = false;
        var last = MessageLog.Seq > 0 && Edges.EdgeCount > 0 ? MessageLog.ReadSince(MessageLog.Seq - 1).Replay : [];
        return last.Count == 1 ? last[0] : null;
    }

    /// <summary>Drops edges whose lease lapsed and adjusts the keep-alive.</summary>
    protected async Task PruneAsync()
    {
        if (await Edges.PruneAsync())
        {
            UpdateKeepAlive();
        }
    }

    /// <summary>
    /// With edges attached the grain must stay (the silo's <see cref="EdgeSweeper"/> pokes it if they die);
    /// without, it only has to outlive its retention window (a message to an offline client waits there).
    /// </summary>
    protected void UpdateKeepAlive()
    {
        if (Edges.EdgeCount > 0)
        {
            DelayDeactivation(Timeout.InfiniteTimeSpan);
        }
        else
        {
            DelayDeactivation(TimeSpan.Zero);
            DelayDeactivation(_retention.MaxAge);
        }
    }

    /// <summary>What the log holds after <paramref name="after"/>: the replay of an attach or a subscribe.</summary>
    protected StreamReplay Read(long? after) =>
        after is { } seq ? MessageLog.ReadSince(seq) : new StreamReplay(MessageLog.Seq, true, []);

    private MessageLog NewLog(MessageLogSnapshot? snapshot) => new(_retention.MaxMessages, _retention.MaxAge, _time, snapshot);
}
