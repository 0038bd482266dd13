using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Postern.Host.Admin;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Host.Serve;

internal static class ServeCommand
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> RunAsync(ServeOptions options, CancellationToken invocationToken)
    {
        // Before the first socket: sessions continue on the socket engine's threads instead of hopping to the thread
        // pool after every read, a thread switch fewer per reply (Postern.Server.Connections.EventThread says what may run
        // there). The runtime reads this once; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 in the environment keeps the hop.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        // SIGTERM (systemd, kill) and SIGINT (Ctrl+C) stop the server gracefully: listeners close, the queue is left as committed.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });
        var cancellationToken = stopping.Token;
        using var loggerFactory = LoggerFactory.Create(ConfigureLogging);
        var logger = loggerFactory.CreateLogger("Postern");
        // The data folder holds password hashes and the key-encryption key: owner only.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        else
        {
            Directory.CreateDirectory(options.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // One server per data folder: a second would share its database and keys, rewrite admin.json under the first
        // and remove the first's running mark when it stops. The lock (flock) goes with the process, also on SIGKILL.
        FileStream dataFolderLock;
        try
        {
            dataFolderLock = new FileStream(Path.Combine(options.DataDirectory, "postern.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InvalidOperationException($"another 'postern serve' is using the data folder {Path.GetFullPath(options.DataDirectory)}; give this one its own --data");
        }

        await using var heldLock = dataFolderLock;
        await using var server = await PosternServer.StartAsync(options, loggerFactory, cancellationToken);
        var http = (await server.Store.Configuration.ListVirtualServersAsync(cancellationToken))
            .FirstOrDefault(v => v.Protocol == ServiceProtocol.Http && v.Enabled);

        // Postern's settings live in its store; nothing reloads an appsettings.json. Left on, the host's watcher for one
        // followed every file under the working directory, where the default data folder is: an inotify event, a wake-up
        // and an lstat for each write to the database's log.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        ConfigureLogging(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);

        string? adminUrl = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (http is null)
            {
                // Without an HTTP virtual server the API still answers the local CLI, on loopback only.
                kestrel.Listen(IPAddress.Loopback, 0);
                return;
            }

            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(http.Limits.IdleTimeoutSeconds);
            foreach (var binding in http.Bindings)
            {
                var address = binding.Address switch { "*" => IPAddress.Any, "::" => IPAddress.IPv6Any, "localhost" => IPAddress.Loopback, _ => IPAddress.Parse(binding.Address) };
                var port = binding.Port == 0 ? 0 : binding.Port + options.PortOffset;
                kestrel.Listen(address, port, listen =>
                {
                    // The virtual server's maxConnections and maxConnectionsPerAddress, counted as the mail protocols'
                    // listeners count them (Kestrel has no limit per client address); a refused connection closes before TLS.
                    listen.Use(next => async connection =>
                    {
                        var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
                        var counts = server.Host.CountsOf(http.Id);
                        var limits = (server.Host.Current(http.Id) ?? http).Limits;
                        try
                        {
                            if (counts.Open(remote, limits))
                            {
                                // The idle and handshake timeouts as they are now, as on the mail ports (`vs set` applies
                                // to the next connection): Kestrel reads its keep-alive limit as each connection starts,
                                // and the handshake deadline is kept here (Kestrel's own is fixed at start, so it is off).
                                kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(limits.IdleTimeoutSeconds);
                                using var handshake = binding.Mode == BindingMode.ImplicitTls ? HandshakeDeadline(connection, limits.TlsHandshakeTimeoutSeconds) : null;
                                await next(connection);
                            }
                        }
                        finally
                        {
                            counts.Close(remote);
                        }
                    });
                    if (binding.Mode == BindingMode.ImplicitTls)
                    {
                        listen.UseHttps(new TlsHandshakeCallbackOptions
                        {
                            HandshakeTimeout = TimeSpan.FromHours(1),
                            // The settings as they are now: `vs set` (minimum TLS version, client certificates) applies to the next handshake.
                            OnConnection = context => ValueTask.FromResult(new VirtualServerRuntime(server.Host.Current(http.Id) ?? http, server.Context).CreateTlsOptions(context.ClientHelloInfo.ServerName)
                                ?? throw new System.Security.Authentication.AuthenticationException("no certificate for the HTTP virtual server")),
                        });
                    }
                });
            }
        });

        // The open-files budget the mail ports share (FileDescriptorBudget): the console's connections count against it
        // too, or a flood of them could leave the mail protocols and the store without descriptors. Registered last, so
        // Kestrel binds every endpoint with it.
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(services => new BudgetedConnectionListenerFactory(
            ActivatorUtilities.CreateInstance<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportFactory>(services)));
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());

            // A request that leaves out a field without a default is a 400 at binding, not a null met later (a 500).
            o.SerializerOptions.RespectRequiredConstructorParameters = true;

            // A field the call does not know is refused (400, naming it), not ignored: a misspelt
            // "requireSecureChanel" answered 200 and left the virtual server as it was.
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        });
        // A body the binder refuses is thrown, not answered with an empty 400, so the API can say why (AdminApi.Map).
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi("v1", AdminApi.DescribeDocument);
        var app = builder.Build();
        var token = LoadTokenOrNone(options.DataDirectory, logger) ?? AdminCredentials.NewToken();
        var trust = await server.Certificates.Pki.ExportAdminTrustPemAsync(cancellationToken) ?? server.Certificates.RootPem;
        var credentials = new AdminCredentials("", token, trust);
        app.Use((context, next) =>
        {
            // RFC 9110 §9.1: a general-purpose server MUST support HEAD (CRL and AIA fetchers, monitors). Routed as the
            // GET it mirrors; Kestrel still knows the request was HEAD and sends the headers without the body.
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
            }

            return next(context);
        });
        app.UseRouting();
        app.Use(async (context, next) =>
        {
            // The console runs only its own script and is never framed; the token stays in the tab.
            var headers = context.Response.Headers;
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }

            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            await next(context);
        });
        AdminApi.Map(app, server, credentials);
        WebConsole.Map(app, server);
        ClientAutoconfig.Map(app, server);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"the HTTP virtual server cannot listen: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        adminUrl = FirstUrl(app);
        if (http is not null)
        {
            server.HttpListeners = http.Bindings.Select(b => new ListenerStatus(http.Id, http.Name, ServiceProtocol.Http, b.Address, b.Port == 0 ? 0 : b.Port + options.PortOffset, b.Mode, true, null)).ToList();
        }
        credentials = credentials with { Url = adminUrl };
        SaveCredentials(credentials, options.DataDirectory, logger);

        // A root trusted or no longer, a subordinate CA installed: the CLI's trust in admin.json follows at once.
        using var saving = new SemaphoreSlim(1, 1);
        server.Certificates.RootsChanged = async ct =>
        {
            var roots = await server.Certificates.Pki.ExportAdminTrustPemAsync(ct) ?? server.Certificates.RootPem;
            await saving.WaitAsync(ct);
            try
            {
                credentials = credentials with { RootCertificatePem = roots };
                SaveCredentials(credentials, options.DataDirectory, logger);
            }
            finally
            {
                saving.Release();
            }
        };

        foreach (var listener in server.Host.Status.OrderBy(s => s.Protocol).ThenBy(s => s.Port))
        {
            logger.Listening(listener.Protocol, listener.Port, listener.Mode, listener.VirtualServer, listener.Error is null ? "" : " — " + listener.Error);
        }

        logger.ServerRunning(server.HostName, Path.GetFullPath(options.DataDirectory), adminUrl);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.Stopping();
        }

        await app.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>The token the CLI already holds, kept across restarts; a damaged admin.json is replaced with a new one.</summary>
    /// <summary>
    /// A full disk (or a read-only data folder) must not stop the server from serving mail: the token is kept across
    /// starts, so the admin.json already there still works unless the API's address changed.
    /// </summary>
    private static void SaveCredentials(AdminCredentials credentials, string dataDirectory, ILogger logger)
    {
        try
        {
            credentials.Save(dataDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.AdminFileNotSaved(AdminCredentials.PathIn(dataDirectory), ex.Message);
        }
    }

    private static string? LoadTokenOrNone(string dataDirectory, ILogger logger)
    {
        try
        {
            return AdminCredentials.Load(dataDirectory)?.Token;
        }
        catch (InvalidDataException ex)
        {
            logger.AdminCredentialsReplaced(ex.Message);
            return null;
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging) =>
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }).SetMinimumLevel(LogLevel.Information);

    private static string FirstUrl(WebApplication app)
    {
        var urls = app.Urls.ToList();
        var url = urls.Find(u => u.StartsWith("https:", StringComparison.Ordinal)) ?? urls[0];
        var uri = new Uri(url.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return $"{uri.Scheme}://127.0.0.1:{uri.Port}";
    }

    /// <summary>Aborts the connection when its TLS handshake has not completed in time.</summary>
    private static CancellationTokenSource HandshakeDeadline(Microsoft.AspNetCore.Connections.ConnectionContext connection, int seconds)
    {
        var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        deadline.Token.Register(() =>
        {
            // On a timer thread: nothing may escape from here.
            try
            {
                if (!HandshakeCompleted(connection))
                {
                    connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("TLS handshake timed out"));
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
                // Closed meanwhile.
            }
        });
        return deadline;
    }

    private static bool HandshakeCompleted(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        try
        {
            return connection.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>() is { Protocol: not System.Security.Authentication.SslProtocols.None };
        }
        catch (ObjectDisposedException)
        {
            // The connection is over already.
            return true;
        }
        catch (InvalidOperationException)
        {
            // SslStream answers only once authenticated.
            return false;
        }
    }
}
