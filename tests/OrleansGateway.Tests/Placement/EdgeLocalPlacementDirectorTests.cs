using System.Net;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains.Placement;

namespace OrleansGateway.Tests.Placement;

public sealed class EdgeLocalPlacementDirectorTests
{
    private static readonly SiloAddress Local = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly PlacementTarget Target = new(GrainId.Create("client", "bob"), new Dictionary<string, object>(), default, 0);

    [Fact]
    public async Task OnAddActivation_CoHostedAndActive_PlacesInTheEdgesOwnSilo()
    {
        var director = new EdgeLocalPlacementDirector(coHostedWithEdge: true, new Fallback(Other));

        Assert.Equal(Local, await director.OnAddActivation(EdgeLocalPlacement.Singleton, Target, new Context(SiloStatus.Active)));
    }

    [Fact]
    public async Task OnAddActivation_SeparateTiers_LeavesItToTheDefaultPlacement()
    {
        var director = new EdgeLocalPlacementDirector(coHostedWithEdge: false, new Fallback(Other));

        Assert.Equal(Other, await director.OnAddActivation(EdgeLocalPlacement.Singleton, Target, new Context(SiloStatus.Active)));
    }

    [Theory]
    [InlineData(SiloStatus.ShuttingDown)]
    [InlineData(SiloStatus.Stopping)]
    public async Task OnAddActivation_CoHostedSiloLeaving_LeavesItToTheDefaultPlacement(SiloStatus status)
    {
        // A stopping silo migrating its grains asks its own director: placing them back on it would migrate nothing.
        var director = new EdgeLocalPlacementDirector(coHostedWithEdge: true, new Fallback(Other));

        Assert.Equal(Other, await director.OnAddActivation(EdgeLocalPlacement.Singleton, Target, new Context(status)));
    }

    [Fact]
    public async Task OnAddActivation_CoHostedButNotCompatible_LeavesItToTheDefaultPlacement()
    {
        var director = new EdgeLocalPlacementDirector(coHostedWithEdge: true, new Fallback(Other));

        Assert.Equal(Other, await director.OnAddActivation(EdgeLocalPlacement.Singleton, Target, new Context(SiloStatus.Active) { LocalCompatible = false }));
    }

    [Fact]
    public async Task OnAddActivation_PlacementHintGiven_LeavesItToTheDefaultPlacementThatFollowsHints()
    {
        var director = new EdgeLocalPlacementDirector(coHostedWithEdge: true, new Fallback(Other));
        var hinted = new PlacementTarget(Target.GrainIdentity, new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = Other }, default, 0);

        Assert.Equal(Other, await director.OnAddActivation(EdgeLocalPlacement.Singleton, hinted, new Context(SiloStatus.Active)));
    }

    /// <summary>Stands in for Orleans' default director: always answers <paramref name="choice"/>.</summary>
    private sealed class Fallback(SiloAddress choice) : IPlacementDirector
    {
        public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context) => Task.FromResult(choice);
    }

    private sealed class Context(SiloStatus status) : IPlacementContext
    {
        public bool LocalCompatible { get; init; } = true;

        public SiloAddress LocalSilo => Local;

        public SiloStatus LocalSiloStatus => status;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => LocalCompatible ? [Local, Other] : [Other];

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = GetCompatibleSilos(target) };
    }
}
