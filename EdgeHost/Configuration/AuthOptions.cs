using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>JWT validation. Section <c>Gateway:Auth</c>.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "Gateway:Auth";

    public string Issuer { get; set; } = "";

    public string Audience { get; set; } = "";

    /// <summary>Signing keys; a token must name (<c>kid</c>) or be verifiable by one of them, with that key's algorithm.</summary>
    public List<SigningKeyOptions> Keys { get; set; } = [];

    /// <summary>Channel patterns for tokens without a <c>channels</c> claim (none unless configured).</summary>
    public string[] DefaultChannels { get; set; } = [];

    /// <summary>Tolerated clock difference for <c>exp</c>/<c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Optional JSON file holding (part of) this section, e.g. <c>{"Gateway":{"Auth":{"Keys":[…]}}}</c>, reloaded when it
    /// changes: keys rotate without a restart (mount a Kubernetes Secret there; set
    /// <c>DOTNET_USE_POLLING_FILE_WATCHER=true</c> for Secret volumes, whose updates are symlink swaps).
    /// </summary>
    public string? KeysFile { get; set; }

    /// <summary>Tokens longer than this are refused without parsing.</summary>
    public int MaxTokenLength { get; set; } = 8 * 1024;

    public override string ToString() => $"Issuer={Issuer} Audience={Audience} Keys={string.Join(',', Keys.Select(k => $"{k.Id}:{k.Algorithm}"))}";
}

/// <summary>One signing key. HS256 takes <see cref="Secret"/>; RS256/ES256 take <see cref="PublicKeyPem"/>.</summary>
internal sealed class SigningKeyOptions
{
    public string Id { get; set; } = "";

    /// <summary><c>HS256</c>, <c>RS256</c> or <c>ES256</c>.</summary>
    public string Algorithm { get; set; } = "";

    /// <summary>HS256 shared secret, UTF-8, at least 32 bytes. Never logged.</summary>
    public string? Secret { get; set; }

    /// <summary>RS256/ES256 public key, PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public string? PublicKeyPem { get; set; }

    public override string ToString() => $"{Id}:{Algorithm}";
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            failures.Add($"{AuthOptions.SectionName}:Issuer is required.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add($"{AuthOptions.SectionName}:Audience is required.");
        }

        if (options.Keys.Count == 0)
        {
            failures.Add($"{AuthOptions.SectionName}:Keys needs at least one signing key.");
        }

        foreach (var key in options.Keys)
        {
            var where = $"{AuthOptions.SectionName}:Keys '{key.Id}'";
            if (string.IsNullOrWhiteSpace(key.Id))
            {
                failures.Add($"{AuthOptions.SectionName}:Keys: every key needs an Id.");
            }

            switch (key.Algorithm)
            {
                case "HS256":
                    if (key.Secret is null || System.Text.Encoding.UTF8.GetByteCount(key.Secret) < 32)
                    {
                        failures.Add($"{where}: HS256 needs a Secret of at least 32 bytes.");
                    }

                    break;
                case "RS256" or "ES256":
                    if (string.IsNullOrWhiteSpace(key.PublicKeyPem) || !CanImport(key))
                    {
                        failures.Add($"{where}: {key.Algorithm} needs a valid PublicKeyPem.");
                    }

                    break;
                default:
                    failures.Add($"{where}: Algorithm must be HS256, RS256 or ES256 (was '{key.Algorithm}').");
                    break;
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool CanImport(SigningKeyOptions key)
    {
        try
        {
            using AsymmetricAlgorithm algorithm = key.Algorithm == "RS256" ? RSA.Create() : ECDsa.Create();
            algorithm.ImportFromPem(key.PublicKeyPem);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
