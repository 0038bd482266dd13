using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Postern.Host.Admin;

namespace Postern.Host.Cli;

internal static class CheckCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("virtual-server") { Description = "Only this virtual server (name or id); default all", Arity = ArgumentArity.ZeroOrOne };
        var check = new Command("check", "Confirm that each virtual server really encrypts: TLS version, cipher, chain, name, expiry, clear-text logon refused") { name };
        check.SetAction(async (parse, ct) =>
        {
            try
            {
                using var client = AdminClient.Connect(parse.GetValue(CliSupport.Data)!);
                var organization = await client.GetAsync<OrganizationView>("organization", ct);
                var servers = await client.GetAsync<List<VirtualServerView>>("virtual-servers", ct);
                var wanted = parse.GetValue(name);
                if (wanted is not null)
                {
                    servers = servers.Where(s => s.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase) || s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == wanted).ToList();
                    if (servers.Count == 0)
                    {
                        throw new CliException($"no such virtual server: {wanted}");
                    }

                    // Named but stopped: an empty table and exit 0 would read as "it encrypts".
                    if (servers.All(s => !s.Enabled))
                    {
                        throw new CliException($"{servers[0].Name} is stopped: nothing listens to check (postern vs start \"{servers[0].Name}\")");
                    }
                }

                var roots = new X509Certificate2Collection();
                foreach (var pem in await client.GetAsync<List<string>>("ca/trusted-roots", ct))
                {
                    roots.Add(X509Certificate2.CreateFromPem(pem));
                }

                // The organization's CA knows what it revoked; a revoked certificate is still served when it is a
                // virtual server's only one, and a client that does not fetch the CRL would accept it.
                var revoked = (await client.GetAsync<List<Postern.Pki.IssuedCertificateInfo>>("ca/issued", ct))
                    .Where(i => i.Revoked)
                    .ToDictionary(i => i.SerialNumber, i => i.RevocationReason, StringComparer.OrdinalIgnoreCase);

                var results = new List<BindingCheck>();
                foreach (var vs in servers.Where(s => s.Enabled))
                {
                    // The HTTP server's clear-text binding only publishes the CRL and CA certificate; there is nothing to encrypt.
                    foreach (var binding in vs.Bindings.Where(b => !(vs.Protocol == Store.ServiceProtocol.Http && b.Mode == Store.BindingMode.StartTls)))
                    {
                        results.Add(await SecureChannelCheck.CheckAsync(vs, binding, organization.Server, roots, revoked, ct));
                    }
                }

                CliSupport.Print(parse, results, rs => rs.Select(r => new[]
                {
                    r.Ok ? "OK" : "FAIL", r.Protocol.ToString().ToUpperInvariant(), r.Endpoint, r.Mode == Store.BindingMode.ImplicitTls ? "implicit" : "starttls",
                    r.TlsVersion ?? "-", r.CipherSuite is null ? "-" : $"{r.CipherSuite} ({r.CipherStrengthBits}-bit)",
                    r.KeyAlgorithm is null ? "-" : $"{r.KeyAlgorithm} {r.KeyBits}",
                    r.ChainVerified ? "chain ok" : "chain FAIL", r.DaysToExpiry is { } d ? $"{d}d" : "-",
                    r.PlaintextLoginRefused switch { true => "clear logon refused", false => "clear logon ACCEPTED", null => "" },
                    r.VirtualServer + (r.Problems.Count > 0 ? ": " + string.Join("; ", r.Problems) : ""),
                }), ["", "PROTO", "ENDPOINT", "MODE", "TLS", "CIPHER", "KEY", "CHAIN", "EXPIRES", "LOGON", "VIRTUAL SERVER"]);
                return results.All(r => r.Ok) ? 0 : 2;
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync("postern: " + CliSupport.OneLine(ex.Message));
                return 1;
            }
        });
        return check;
    }
}
