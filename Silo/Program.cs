using OrleansGateway.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewaySiloHost();

var app = builder.Build();
app.MapSiloHealthEndpoints();
app.Run();
