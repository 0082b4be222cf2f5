using System.ComponentModel;
using System.Reflection;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Hosting;
using OrleansGateway.Grains;
using OrleansGateway.Hosting;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Tests.Kubernetes;

/// <summary>
/// Checks that an environment variable such as <c>Gateway__Auth__Keys__0__Secret</c> names a property the
/// configuration binder would set, by reflection over the options types.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Sections whose options types are known here.</summary>
    private static readonly Dictionary<string, Type> KnownSections = new(StringComparer.OrdinalIgnoreCase)
    {
        [GatewayClusterOptions.SectionName] = typeof(GatewayClusterOptions),
        [MailboxOptions.SectionName] = typeof(MailboxOptions),
        [EdgeLeaseOptions.SectionName] = typeof(EdgeLeaseOptions),
        [EdgeOptions.SectionName] = typeof(EdgeOptions),
        [AuthOptions.SectionName] = typeof(AuthOptions),
    };

    /// <summary>Assemblies searched for other options types: any type with a <c>const string SectionName</c>.</summary>
    private static readonly Assembly[] OptionsAssemblies =
    [
        typeof(EdgeOptions).Assembly,
        typeof(GatewayClusterOptions).Assembly,
        typeof(MailboxOptions).Assembly,
        typeof(EdgeLeaseOptions).Assembly,
        typeof(OrleansGateway.Silo.Hosting.SiloOptions).Assembly,
        typeof(OrleansGateway.Streams.Kafka.KafkaStreamOptions).Assembly,
    ];

    /// <summary>Single keys outside any options type.</summary>
    private static readonly HashSet<string> StandaloneKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        EdgeHostingExtensions.EmbeddedSiloKey,
    };

    /// <summary>Environment variable name (<c>__</c> separators) → configuration key (<c>:</c> separators).</summary>
    public static string FromEnvironmentVariable(string name) => name.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>Null when <paramref name="key"/> maps to a bindable property; otherwise why not.</summary>
    public static string? Check(string key)
    {
        if (StandaloneKeys.Contains(key))
        {
            return null;
        }

        var segments = key.Split(':');
        for (var length = segments.Length - 1; length >= 1; length--)
        {
            var section = string.Join(':', segments[..length]);
            var path = segments[length..];
            var types = TypesFor(section);
            if (types.Count > 0)
            {
                var failures = types.Select(t => Resolve(t, path)).ToList();
                return failures.Contains(null) ? null : $"{key}: {string.Join("; ", failures)}";
            }
        }

        return $"{key}: no options type or allow-list entry for its section.";
    }

    private static List<Type> TypesFor(string section)
    {
        if (KnownSections.TryGetValue(section, out var known))
        {
            return [known];
        }

        return OptionsAssemblies
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && string.Equals(field.GetRawConstantValue() as string, section, StringComparison.OrdinalIgnoreCase))
            .ToList();
    }

    /// <summary>Walks <paramref name="path"/> from <paramref name="type"/> as the configuration binder would.</summary>
    private static string? Resolve(Type type, string[] path)
    {
        var current = type;
        for (var i = 0; i < path.Length; i++)
        {
            var segment = path[i];
            if (IsIndex(segment))
            {
                if (ElementType(current) is not { } element)
                {
                    return $"'{segment}' indexes {current.Name}, which is not a collection";
                }

                current = element;
                continue;
            }

            var property = current.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.GetMethod is not { IsPublic: true })
            {
                return $"{current.Name} has no public property '{segment}'";
            }

            var settable = property.SetMethod is { IsPublic: true };
            if (!settable && (IsScalar(property.PropertyType) || property.PropertyType.IsArray))
            {
                return $"{current.Name}.{property.Name} has no public setter";
            }

            current = property.PropertyType;
        }

        return IsScalar(current) ? null : $"the key ends at {current.Name}, which is not a single value";
    }

    private static bool IsIndex(string segment) => segment.Length > 0 && segment.All(char.IsAsciiDigit);

    /// <summary>What the binder converts from a string (it uses the same <see cref="TypeConverter"/>s).</summary>
    private static bool IsScalar(Type type) =>
        type != typeof(object) && TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (type == typeof(string))
        {
            return null;
        }

        var enumerable = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }
}
