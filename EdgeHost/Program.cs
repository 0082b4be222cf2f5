using OrleansGateway.EdgeHost.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayEdge();

var app = builder.Build();
app.MapGatewayEndpoints();
app.Lifetime.ApplicationStarted.Register(() => app.LogDevelopmentBanner());
app.Run();
