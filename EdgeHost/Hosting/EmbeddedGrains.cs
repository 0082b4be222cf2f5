using System.Reflection;
using System.Runtime.Loader;
using Orleans.Serialization;

namespace OrleansGateway.EdgeHost.Hosting;

/// <summary>
/// The grains of the one-command dev run's co-hosted silo (<see cref="EdgeHostingExtensions.EmbeddedSiloKey"/>). The edge
/// never compiles against grain implementations (only the silo references Grains): the build copies
/// <c>OrleansGateway.Grains.dll</c> beside the edge (EdgeHost.csproj), and this loads it the way the silo process has it,
/// its types made known to Orleans and its services added through the one entry point the silo calls too,
/// <c>GrainsServiceCollectionExtensions.AddGatewayGrains</c>.
/// </summary>
internal static class EmbeddedGrains
{
    private const string AssemblyName = "OrleansGateway.Grains";
    private const string EntryType = "OrleansGateway.Grains.Hosting.GrainsServiceCollectionExtensions";
    private const string EntryMethod = "AddGatewayGrains";

    public static ISiloBuilder AddEmbeddedGatewayGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var grains = Load();
        silo.Services.AddSerializer(serializer => serializer.AddAssembly(grains));
        var entry = grains.GetType(EntryType, throwOnError: true)!.GetMethod(EntryMethod, [typeof(ISiloBuilder), typeof(IConfiguration)])
            ?? throw new InvalidOperationException($"{AssemblyName} has no {EntryType}.{EntryMethod}(ISiloBuilder, IConfiguration).");
        try
        {
            entry.Invoke(null, [silo, configuration]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // Configuration errors (e.g. Redis durability without a Redis) must read as they do on a silo.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }

        return silo;
    }

    private static Assembly Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{EdgeHostingExtensions.EmbeddedSiloKey}=true needs {path} (built with EdgeHost); run a Silo and set it to false otherwise.");
        }

        return AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == AssemblyName)
            ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
    }
}
