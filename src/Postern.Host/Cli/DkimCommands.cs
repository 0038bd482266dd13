using System.CommandLine;
using Postern.Host.Admin;

namespace Postern.Host.Cli;

/// <summary>`postern dkim`: DKIM signing keys per mail domain, and the DNS record to publish for each.</summary>
internal static class DkimCommands
{
    /// <summary>
    /// The record as a zone file writes it: a TXT string holds at most 255 octets (RFC 1035 §3.3.14), a 2048-bit key's
    /// record is longer, so it is split into several strings, which DNS joins again (RFC 6376 §3.6.2.2).
    /// </summary>
    internal static string ZoneFileText(string text) =>
        string.Join(' ', text.Chunk(250).Select(part => "\"" + new string(part) + "\""));

    public static Command Create()
    {
        var dkim = new Command("dkim", "DKIM signing (RFC 6376): mail submitted from a domain with a key is signed; publish the TXT record it prints");

        var domain = new Argument<string>("domain") { Description = "The mail domain whose From addresses are signed" };
        var selector = new Option<string?>("--selector") { Description = "The selector (default postern + year and month); a new key replaces the old one" };
        var add = new Command("add", "Make a key for a domain (or a new one: rotation) and print its DNS TXT record") { domain, selector };
        add.SetAdminAction(async (parse, client, ct) =>
        {
            var key = await client.PutAsync<DkimView>("dkim/" + AdminClient.Escape(parse.GetValue(domain)!), new DkimRequest(parse.GetValue(selector)), ct);
            CliSupport.Print(parse, key, k =>
            [
                [$"mail from {k.Domain} is signed now; publish this TXT record:"],
                [$"{k.DnsName}. IN TXT {ZoneFileText(k.DnsText)}"],
            ]);
        });

        var list = new Command("list", "List the domains that sign, with their DNS records");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var keys = await client.GetAsync<List<DkimView>>("dkim", ct);
            CliSupport.Print(parse, keys, ks => ks.Select(k => new[] { k.Domain, k.Selector, k.Created.ToString("u"), k.DnsName }), ["DOMAIN", "SELECTOR", "CREATED", "DNS NAME"]);
        });

        var checkDomain = new Argument<string>("domain");
        var check = new Command("check", "Ask DNS whether the domain's key is published (exit 1 when it is not)") { checkDomain };
        check.SetAdminAction(async (parse, client, ct) =>
        {
            var result = await client.GetAsync<Postern.Server.Smtp.DkimPublication>("dkim/" + AdminClient.Escape(parse.GetValue(checkDomain)!) + "/check", ct);
            CliSupport.Print(parse, result, r => [[$"{r.DnsName}: {r.Status}" + (r.Found is null ? "" : $" ({r.Found})")]]);
            if (result.Status != "published")
            {
                throw new CliException($"the DKIM key of {result.Domain} is not published at {result.DnsName} ({result.Status})");
            }
        });

        var removeDomain = new Argument<string>("domain");
        var remove = new Command("remove", "Stop signing a domain's mail and forget its key") { removeDomain };
        remove.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync("dkim/" + AdminClient.Escape(parse.GetValue(removeDomain)!), ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(removeDomain) }, r => [[$"mail from {r.removed} is no longer signed"]]);
        });

        dkim.Subcommands.Add(add);
        dkim.Subcommands.Add(list);
        dkim.Subcommands.Add(check);
        dkim.Subcommands.Add(remove);
        return dkim;
    }
}
