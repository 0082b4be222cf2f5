using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Events;

public sealed class GatewayEventsOptionsTests
{
    [Fact]
    public void Options_Defaults_ValidAndProduceNothing()
    {
        var options = new GatewayEventsOptions();
        Assert.True(new GatewayEventsOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(LifecycleEventKinds.None, options.Kinds);
        Assert.Equal("ogw.events", options.Topic);
        Assert.All(Enum.GetValues<LifecycleEventKinds>().Where(k => k != LifecycleEventKinds.None), k => Assert.False(options.Produces(k)));
    }

    [Fact]
    public void Validator_SeveralBadValues_ReportsEveryFailure()
    {
        var options = new GatewayEventsOptions { Kinds = (LifecycleEventKinds)64, Topic = "bad topic", MaxPendingPerClient = 0 };
        var result = new GatewayEventsOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("ogw/events")]
    public void Validator_InvalidTopic_Fails(string topic) =>
        Assert.True(new GatewayEventsOptionsValidator().Validate(null, new GatewayEventsOptions { Topic = topic }).Failed);

    [Theory]
    [InlineData(LifecycleEventKinds.Connected)]
    [InlineData(LifecycleEventKinds.Disconnected)]
    [InlineData(LifecycleEventKinds.Subscribed)]
    [InlineData(LifecycleEventKinds.Unsubscribed)]
    public void Produces_EveryKindButOne_ThatKindOff(LifecycleEventKinds off)
    {
        var options = new GatewayEventsOptions { Kinds = LifecycleEventKinds.All & ~off };
        Assert.False(options.Produces(off));
        Assert.All(Enum.GetValues<LifecycleEventKinds>().Where(k => k is not (LifecycleEventKinds.None or LifecycleEventKinds.All) && k != off), k => Assert.True(options.Produces(k)));
    }

    [Fact]
    public void Binding_KindsAsCommaSeparatedNames_TurnsOnThoseKinds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Events:Kinds"] = "Connected, Disconnected", ["Gateway:Events:Topic"] = "app.events" })
            .Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddGatewayEventsOptions().BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<GatewayEventsOptions>>().Value;

        Assert.Equal(LifecycleEventKinds.Connected | LifecycleEventKinds.Disconnected, options.Kinds);
        Assert.Equal("app.events", options.Topic);
    }
}
