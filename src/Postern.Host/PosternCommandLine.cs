using System.CommandLine;
using Postern.Host.Cli;
using Postern.Host.Serve;

namespace Postern.Host;

/// <summary>The one executable's verbs: serve, and the admin verbs that talk to a running server (like doveadm).</summary>
internal static class PosternCommandLine
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Postern: SMTP, POP3, IMAP4 and NNTP virtual servers secured with your organization's certificates")
        {
            CliSupport.Data,
            CliSupport.Json,
        };
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(DirectoryCommands.User());
        root.Subcommands.Add(DirectoryCommands.Domain());
        root.Subcommands.Add(DirectoryCommands.Alias());
        root.Subcommands.Add(DirectoryCommands.Queue());
        root.Subcommands.Add(VirtualServerCommands.Create());
        root.Subcommands.Add(RoutingCommands.Create());
        root.Subcommands.Add(NewsCommands.PublicFolder());
        root.Subcommands.Add(NewsCommands.News());
        foreach (var command in CertificateCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).InvokeAsync();
    }

    private static Command Serve()
    {
        var portOffset = new Option<int>("--port-offset") { Description = "Add N to every standard port (e.g. 10000: SMTP on 10025, IMAP on 10143) so a non-root user can run the standard layout" };
        var hostName = new Option<string?>("--host-name") { Description = "The server's fully qualified name (banners, Received headers, the certificate)" };
        var organization = new Option<string>("--organization") { Description = "Organization name used at first start", DefaultValueFactory = _ => "First Organization" };
        var iterations = new Option<int>("--password-iterations") { Description = "PBKDF2-SHA256 iterations for new password hashes", DefaultValueFactory = _ => 600_000 };
        var serve = new Command("serve", "Run the server (creates the data folder, the organization's CA and default virtual servers on first start)")
        {
            portOffset, hostName, organization, iterations,
        };
        serve.SetAction(async (parse, ct) =>
        {
            var options = new ServeOptions
            {
                DataDirectory = parse.GetValue(CliSupport.Data)!,
                PortOffset = parse.GetValue(portOffset),
                HostName = parse.GetValue(hostName),
                Organization = parse.GetValue(organization)!,
                PasswordIterations = Math.Max(1000, parse.GetValue(iterations)),
            };
            try
            {
                return await ServeCommand.RunAsync(options, ct);
            }
            catch (InvalidOperationException ex)
            {
                await Console.Error.WriteLineAsync("postern: " + ex.Message);
                return 1;
            }
        });
        return serve;
    }
}
