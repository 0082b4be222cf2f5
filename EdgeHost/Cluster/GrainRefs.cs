using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// References to client and channel grains without Orleans' per-call interface resolution:
/// <c>GrainFactory.GetGrain&lt;T&gt;(key)</c> reads the interface's attributes by reflection on every call (a profile
/// under load showed it in 2–5 % of edge CPU, once per frame). The grain and interface types are resolved once here,
/// and recently used references are kept (<see cref="ReferenceCache{T}"/>), so a frame to a known recipient builds none.
/// </summary>
internal sealed class GrainRefs
{
    /// <summary>
    /// Slots per cache: at most this many references of each kind are kept (~100 bytes each), whatever the number of
    /// recipients; 8,192 covers the recipients a busy edge writes to within a moment at a bounded ~1 MB.
    /// </summary>
    internal const int CacheSlots = 8192;

    private readonly IGrainFactory _grains;
    private readonly Lazy<(GrainType Type, GrainInterfaceType Interface)> _client;
    private readonly Lazy<(GrainType Type, GrainInterfaceType Interface)> _channel;
    private readonly ReferenceCache<IClientSessionGrain> _clients;
    private readonly ReferenceCache<IChannelSubscriptionGrain> _channels;

    public GrainRefs(IGrainFactory grains)
    {
        _grains = grains;
        _client = new(() => Resolve<IClientSessionGrain>(grains));
        _channel = new(() => Resolve<IChannelSubscriptionGrain>(grains));
        _clients = new(CacheSlots, id => (IClientSessionGrain)_grains.GetGrain(GrainId.Create(_client.Value.Type, id), _client.Value.Interface));
        _channels = new(CacheSlots, name => (IChannelSubscriptionGrain)_grains.GetGrain(GrainId.Create(_channel.Value.Type, name), _channel.Value.Interface));
    }

    public IClientSessionGrain Client(string clientId) => _clients.Get(clientId);

    public IChannelSubscriptionGrain Channel(string channel) => _channels.Get(channel);

    /// <summary>The channel as backends see it, for its member list (rare: not cached).</summary>
    public IChannelGrain Members(string channel) => _grains.GetGrain<IChannelGrain>(channel);

    private static (GrainType, GrainInterfaceType) Resolve<T>(IGrainFactory grains)
        where T : IGrainWithStringKey
    {
        var sample = (GrainReference)(object)grains.GetGrain<T>("resolve");
        return (sample.GrainId.Type, sample.InterfaceType);
    }
}
