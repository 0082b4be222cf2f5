using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// References to client and channel grains without Orleans' per-call interface resolution:
/// <c>GrainFactory.GetGrain&lt;T&gt;(key)</c> reads the interface's attributes by reflection on every call (a profile
/// under load showed it in 2–5 % of edge CPU, once per frame). The grain and interface types are resolved once here.
/// </summary>
internal sealed class GrainRefs(IGrainFactory grains)
{
    private readonly Lazy<(GrainType Type, GrainInterfaceType Interface)> _client = new(() => Resolve<IClientGrain>(grains));
    private readonly Lazy<(GrainType Type, GrainInterfaceType Interface)> _channel = new(() => Resolve<IChannelGrain>(grains));

    public IClientGrain Client(string clientId) =>
        (IClientGrain)grains.GetGrain(GrainId.Create(_client.Value.Type, clientId), _client.Value.Interface);

    public IChannelGrain Channel(string channel) =>
        (IChannelGrain)grains.GetGrain(GrainId.Create(_channel.Value.Type, channel), _channel.Value.Interface);

    private static (GrainType, GrainInterfaceType) Resolve<T>(IGrainFactory grains)
        where T : IGrainWithStringKey
    {
        var sample = (GrainReference)(object)grains.GetGrain<T>("resolve");
        return (sample.GrainId.Type, sample.InterfaceType);
    }
}
