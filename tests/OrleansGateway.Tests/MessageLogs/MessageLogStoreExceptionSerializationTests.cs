using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Tests.MessageLogs;

public sealed class MessageLogStoreExceptionSerializationTests
{
    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(serializer => serializer.AddAssembly(typeof(MessageLogStoreException).Assembly))
        .BuildServiceProvider();

    [Fact]
    public void MessageLogStoreException_ThrownAndCaught_RoundTripsThroughTheOrleansSerializerWithItsCause()
    {
        // It is the answer a grain sends back to the edge: it must serialize, cause and all, with no inner exception.
        MessageLogStoreException thrown;
        try
        {
            throw new MessageLogStoreException("persisting seq 3 to client bob failed: RedisConnectionException: SocketFailure (ConnectionReset)");
        }
        catch (MessageLogStoreException ex)
        {
            thrown = ex;
        }

        var serializer = Services.GetRequiredService<Serializer>();
        var copy = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(thrown));

        var typed = Assert.IsType<MessageLogStoreException>(copy);
        Assert.Equal(thrown.Message, typed.Message);
        Assert.Null(typed.InnerException);
    }
}
