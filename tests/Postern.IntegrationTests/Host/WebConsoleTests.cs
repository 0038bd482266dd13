using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Host;

/// <summary>Runs where Debian's chromium and chromium-driver are installed (test.sh installs them).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Driver = "/usr/bin/chromedriver";
    public const string Browser = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Driver) || !File.Exists(Browser))
        {
            Skip = "Chromium is not installed: apt-get install -y chromium chromium-driver (test.sh installs them)";
        }
    }
}

/// <summary>
/// The System Manager console in a real browser (headless Chromium, driven by Selenium): log on with the admin token,
/// run the certificate wizard of the article every way (send the request at once to the online CA; prepare it now and
/// send it later, then install the external CA's .cer or delete the pending request), give a domain a DKIM key, and read
/// Monitoring and Status.
/// </summary>
public sealed class WebConsoleTests : IAsyncLifetime
{
    private readonly Postern.Tests.FakeDnsServer _dns = new();
    private PosternProcess _server = null!;
    private ChromeDriver _browser = null!;
    private WebDriverWait _wait = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--dns-server", _dns.EndPoint.ToString()]);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromiumFactAttribute.Driver)!, Path.GetFileName(ChromiumFactAttribute.Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser, AcceptInsecureCertificates = true };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000");
        _browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        _wait = new WebDriverWait(_browser, TimeSpan.FromSeconds(20));

        // The console re-renders a page after each change; an element found just before may be gone.
        _wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
    }

    public async Task DisposeAsync()
    {
        _browser?.Quit();
        _browser?.Dispose();
        await _server.DisposeAsync();
        await _dns.DisposeAsync();
    }

    [ChromiumFact]
    public async Task An_administrator_runs_the_certificate_wizard_and_reads_the_monitoring_page_in_the_console()
    {
        using var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        _browser.Navigate().GoToUrl($"https://127.0.0.1:{_server.Port(443)}/");
        _browser.FindElement(By.Id("token")).SendKeys(admin.RootElement.GetProperty("token").GetString()!);
        _browser.FindElement(By.CssSelector("#login button[type=submit]")).Click();

        // The article's tree: organization, administrative group, server, protocols, virtual servers.
        var nntp = _wait.Until(d => d.FindElements(By.XPath("//nav//span[text()='Default NNTP Virtual Server']")).FirstOrDefault());
        Assert.Contains("First Administrative Group", _browser.FindElement(By.Id("tree")).Text, StringComparison.Ordinal);

        // Send the request at once to the organization's online CA: the certificate is issued and installed.
        nntp.Click();
        StartRequest("news.example.test");
        Type("country", "US");
        Next();
        Assert.True(Wizard().Text.Contains("news.example.test", StringComparison.Ordinal), Wizard().Text);
        Next();
        _wait.Until(_ => Wizard().Text.Contains("The certificate is installed on Default NNTP Virtual Server", StringComparison.Ordinal));
        Assert.True(Wizard().Text.Contains("Issued to news.example.test", StringComparison.Ordinal), Wizard().Text);
        Button("Finish").Click();

        // The NNTPS port now serves it, chaining to the organization's root.
        var served = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(563)}", "-servername", "news.example.test",
            "-CAfile", _server.RootPemPath, "-verify_return_error"], "Q\n");
        Assert.Contains("CN = news.example.test", served.Output, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", served.Output, StringComparison.Ordinal);

        // Prepare the request now and send it later: the wizard shows the PKCS#10 file; an external CA (OpenSSL) signs it,
        // and the next run of the wizard processes the pending request by installing the CA's .cer.
        var request = PrepareLater("Default POP3 Virtual Server", "pop.example.test");
        var work = Path.Combine(_server.DataDirectory, "external-ca");
        Directory.CreateDirectory(work);
        var requestFile = Path.Combine(work, "certreq.txt");
        await File.WriteAllTextAsync(requestFile, request);
        var (externalRoot, cer) = await Pki.CertificateWizardCliTests.SignWithOpenSslCaAsync(work, requestFile, days: 30, dnsName: "pop.example.test");

        // The external CA's root is trusted from the Certification Authority page, as the article's procedure needs.
        _browser.FindElement(By.CssSelector("nav span[data-page='ca']")).Click();
        _wait.Until(d => d.FindElements(By.Id("rootfile")).FirstOrDefault())!.SendKeys(externalRoot);
        Button("Trust this root", inWizard: false).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text == "Trusted");
        Assert.Contains("External Test Root", _browser.FindElement(By.Id("main")).Text, StringComparison.Ordinal);
        _browser.FindElement(By.XPath("//nav//span[text()='Default POP3 Virtual Server']")).Click();
        _wait.Until(d => d.FindElement(By.TagName("h1")).Text == "Default POP3 Virtual Server Properties");
        Button("Certificate…", inWizard: false).Click();
        _wait.Until(_ => Wizard().Text.Contains("There is a pending request", StringComparison.Ordinal));
        Choose("p", "process");
        Next();
        Wizard().FindElement(By.Id("cer")).SendKeys(cer);
        Next();
        _wait.Until(_ => Wizard().Text.Contains("The certificate is installed on Default POP3 Virtual Server", StringComparison.Ordinal));
        Button("Finish").Click();
        var pop3 = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(995)}", "-servername", "pop.example.test",
            "-CAfile", externalRoot, "-verify_return_error"], "Q\n");
        Assert.Contains("CN = pop.example.test", pop3.Output, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", pop3.Output, StringComparison.Ordinal);

        // A pending request can also be deleted.
        PrepareLater("Default IMAP4 Virtual Server", "imap.example.test");
        Button("Certificate…", inWizard: false).Click();
        _wait.Until(_ => Wizard().Text.Contains("There is a pending request", StringComparison.Ordinal));
        Choose("p", "delete");
        Next();
        _wait.Until(_ => Wizard().Text.Contains("Pending Request Deleted", StringComparison.Ordinal));
        Button("Finish").Click();

        // Domains and DKIM: a key for the server's own domain, its TXT record shown to publish.
        _browser.FindElement(By.CssSelector("nav span[data-page='domains']")).Click();
        _wait.Until(d => d.FindElements(By.CssSelector("button[data-dkim='mail.example.test']")).FirstOrDefault())!.Click();
        var record = _wait.Until(d => d.FindElements(By.CssSelector("main pre")).Select(p => p.Text).FirstOrDefault(t => t.Contains("._domainkey.mail.example.test", StringComparison.Ordinal)))!;
        Assert.Contains("v=DKIM1; k=rsa; p=MII", record, StringComparison.Ordinal);

        // RFC 1035 §3.3: a 2048-bit key's record is more than one 255-octet string, and a zone file must get it so.
        Assert.Contains("\" \"", record, StringComparison.Ordinal);
        Assert.All(System.Text.RegularExpressions.Regex.Matches(record, "\"([^\"]*)\"").Select(m => m.Groups[1].Value), part => Assert.InRange(part.Length, 1, 255));
        using (var keys = JsonDocument.Parse((await _server.CliAsync(null, "dkim", "list", "--json")).Output))
        {
            var key = Assert.Single(keys.RootElement.EnumerateArray());
            _dns.AddTxt(key.GetProperty("dnsName").GetString()!, key.GetProperty("dnsText").GetString()!);
        }

        _browser.FindElement(By.CssSelector("button[data-dkimcheck='mail.example.test']")).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text.EndsWith("._domainkey.mail.example.test: published", StringComparison.Ordinal));

        // A new key gets a new selector (RFC 6376 §3.1): DNS still gives the old key under the old one.
        var firstSelector = System.Text.RegularExpressions.Regex.Match(record, @"^(\S+)\._domainkey").Groups[1].Value;
        _browser.FindElement(By.CssSelector("button[data-dkim='mail.example.test']")).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text.StartsWith("Key made", StringComparison.Ordinal));
        using (var keys = JsonDocument.Parse((await _server.CliAsync(null, "dkim", "list", "--json")).Output))
        {
            Assert.NotEqual(firstSelector, Assert.Single(keys.RootElement.EnumerateArray()).GetProperty("selector").GetString());
        }

        // A standalone CA holds the wizard's online request; the administrator approves it on the CA page.
        _browser.FindElement(By.CssSelector("nav span[data-page='ca']")).Click();
        _wait.Until(d => d.FindElements(By.XPath("//select[@id='camode']/option[text()='Standalone']")).FirstOrDefault())!.Click();
        Button("Apply", inWizard: false).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text == "Saved");
        _browser.FindElement(By.XPath("//nav//span[text()='Default IMAP4 Virtual Server']")).Click();
        _wait.Until(d => d.FindElement(By.TagName("h1")).Text == "Default IMAP4 Virtual Server Properties");
        StartRequest("imap.example.test");
        Next();
        Next();
        _wait.Until(_ => Wizard().Text.Contains("until an administrator approves it", StringComparison.Ordinal));
        Button("Finish").Click();
        _browser.FindElement(By.CssSelector("nav span[data-page='ca']")).Click();
        _wait.Until(d => d.FindElements(By.CssSelector("button[data-approve]")).FirstOrDefault())!.Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text.StartsWith("Issued serial", StringComparison.Ordinal));
        var imaps = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(993)}", "-servername", "imap.example.test",
            "-CAfile", _server.RootPemPath, "-verify_return_error"], "Q\n");
        Assert.Contains("CN = imap.example.test", imaps.Output, StringComparison.Ordinal);

        // Public folders, news peers and routes are managed on one page as well.
        _browser.FindElement(By.CssSelector("nav span[data-page='folders']")).Click();
        _wait.Until(d => d.FindElements(By.Id("folder")).FirstOrDefault())!.SendKeys("Console/Made");
        _browser.FindElement(By.Id("newsgroup")).SendKeys("console.made");
        Button("Add folder", inWizard: false).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text == "Added");
        Assert.Contains("console.made", (await _server.CliAsync(null, "public-folder", "list")).Output, StringComparison.Ordinal);
        _browser.FindElement(By.CssSelector("input[data-rights-for='Console/Made']")).SendKeys("anonymous=read");
        _browser.FindElement(By.CssSelector("button[data-rights='Console/Made']")).Click();
        _wait.Until(d => d.FindElement(By.Id("status")).Text == "Saved");
        Assert.Contains("anonymous=read", _browser.FindElement(By.Id("main")).Text, StringComparison.Ordinal);

        // Monitoring and Status counts the NNTPS connection above and lists every listener.
        _browser.FindElement(By.CssSelector("nav span[data-page='monitoring']")).Click();
        var main = _wait.Until(d => d.FindElements(By.Id("refresh")).Count > 0 ? d.FindElement(By.Id("main")) : null)!;
        Assert.Matches(@"NNTP 1 0 0 1 ", string.Join(' ', main.Text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("Client Submission", main.Text, StringComparison.Ordinal);

        var errors = _browser.FindElements(By.CssSelector(".error")).Select(e => e.Text).Where(t => t.Length > 0).ToList();
        Assert.Empty(errors);
    }

    /// <summary>Runs the wizard to its Geographical Information page: the request sent "now" to the online CA, or prepared for "later".</summary>
    private void StartRequest(string commonName, string when = "now")
    {
        Button("Certificate…", inWizard: false).Click();
        Next();
        Choose("d", when);
        Next();
        Next();
        Type("org", "Example Org");
        Next();
        Type("cn", commonName);
        Next();
    }

    /// <summary>Runs the wizard's "prepare the request now, but send it later" path on a virtual server; returns the request (PEM).</summary>
    private string PrepareLater(string virtualServer, string commonName)
    {
        _browser.FindElement(By.XPath($"//nav//span[text()='{virtualServer}']")).Click();
        _wait.Until(d => d.FindElement(By.TagName("h1")).Text == virtualServer + " Properties");
        StartRequest(commonName, "later");
        Next();
        Next();
        _wait.Until(_ => Wizard().Text.Contains("BEGIN CERTIFICATE REQUEST", StringComparison.Ordinal));
        Assert.NotNull(Wizard().FindElement(By.CssSelector("a[download='certreq.txt']")));
        var pem = Wizard().FindElement(By.TagName("pre")).Text;
        Button("Finish").Click();
        return pem;
    }

    private IWebElement Wizard() => _wait.Until(d => d.FindElements(By.CssSelector("#wizard .wizard")).FirstOrDefault())!;

    private IWebElement Button(string text, bool inWizard = true) =>
        _wait.Until(d => d.FindElements(By.XPath((inWizard ? "//div[@class='wizard']" : "//main") + $"//button[text()='{text}']")).FirstOrDefault(b => b.Displayed))!;

    /// <summary>Clicks Next and waits for the next page of the wizard (or its error line).</summary>
    private void Next()
    {
        var title = Wizard().FindElement(By.TagName("h3")).Text;
        Button("Next").Click();
        _wait.Until(_ =>
        {
            var wizard = Wizard();
            var error = wizard.FindElements(By.Id("wizError")).FirstOrDefault()?.Text;
            Assert.True(string.IsNullOrEmpty(error), error);
            return wizard.FindElement(By.TagName("h3")).Text != title;
        });
    }

    private void Choose(string group, string value) => Wizard().FindElement(By.CssSelector($"input[name='{group}'][value='{value}']")).Click();

    private void Type(string id, string text)
    {
        var input = Wizard().FindElement(By.Id(id));
        input.Clear();
        input.SendKeys(text);
    }
}
