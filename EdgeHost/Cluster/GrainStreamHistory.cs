using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>Reads a mailbox or channel again for a cursor's gap repair: repeatable calls (<see cref="GrainCallPolicy"/>).</summary>
internal sealed class GrainStreamHistory(GrainRefs grains, GrainCallPolicy calls) : IStreamHistory
{
    public Task<StreamReplay> ReadMailboxSinceAsync(string clientId, long after) =>
        calls.RepeatableAsync(static a => a.grains.Client(a.clientId).ReadSinceAsync(a.after), (grains, clientId, after), clientId);

    public Task<StreamReplay> ReadChannelSinceAsync(string channel, long after) =>
        calls.RepeatableAsync(static a => a.grains.Channel(a.channel).ReadSinceAsync(a.after), (grains, channel, after), channel);
}
