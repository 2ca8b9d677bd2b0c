def test_probe(app, make, vendor, vendor_client, customer, account, portal_client, db):
    for url in ["/vendor/customers/?q=3000000000", "/Portal/@acme%00/Login", "/Portal/@%00/Login", "/vendor/customers/?before=-99999999999"]:
        c = portal_client if url.startswith("/Portal") else vendor_client
        try:
            r = c.get(url)
            print(url, r.status_code)
        except Exception as e:
            print(url, "EXC", type(e).__name__, str(e)[:100])
