def test_login_page_renders(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert b"Sign in" in resp.data


def test_contacts_page_for_rep(auth, rep):
    resp = auth.login(rep).get("/contacts")
    assert resp.status_code == 200, resp.data[:2000]
