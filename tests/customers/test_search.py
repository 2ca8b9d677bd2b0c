import pytest

from tests.support.pages import links_in, post_form, walk_pages


@pytest.fixture
def people(make, vendor, other_vendor):
    made = {
        "ada": make.customer(vendor, name="Ada Lovelace", email="Ada@Engines.test", company_name="Analytical Engines"),
        "grace": make.customer(vendor, name="Grace Hopper", email="grace@navy.test", company_name="US Navy"),
        "alan": make.customer(vendor, name="Alan Turing", email="alan@bletchley.test", company_name="GC&CS"),
    }
    make.customer(other_vendor, name="Ada Other", email="ada@other.test")
    return made


def names(client, query):
    html = client.get("/vendor/customers/", query_string={"q": query}, headers={"HX-Request": "true"}).get_data(
        as_text=True)
    return {name for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Ada Other", "Zoë", "Zoé") if name in html}


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"Ada Lovelace", "Grace Hopper", "Alan Turing"}),
    ("ada", {"Ada Lovelace"}),
    ("ADA@eng", {"Ada Lovelace"}),
    ("lov", {"Ada Lovelace"}),
    ("engines", {"Ada Lovelace"}),
    ("navy", {"Grace Hopper"}),
    ("a", {"Ada Lovelace", "Alan Turing"}),
    ("grace h", {"Grace Hopper"}),
    ("hopper grace", {"Grace Hopper"}),
    ("turing lovelace", set()),
    ("zzz", set()),
    ("gc&cs", {"Alan Turing"}),
])
def test_search_matches_words_emails_and_stays_in_the_vendor(vendor_client, people, query, expected):
    assert names(vendor_client, query) == expected


def test_search_by_exact_id_and_secret(vendor_client, people):
    grace = people["grace"]
    assert names(vendor_client, str(grace.id)) == {"Grace Hopper"}
    assert names(vendor_client, f"#{grace.id}") == {"Grace Hopper"}  # as the pages show it ("#3", "Customer #3")
    assert names(vendor_client, grace.secret) == {"Grace Hopper"}


def test_renamed_customer_is_found_by_its_new_words_only(vendor_client, people):
    post_form(vendor_client, f"/vendor/customers/{people['alan'].id}/edit",
              {"name": "Alan Mathison", "company_name": "Bletchley Park"})
    html = vendor_client.get("/vendor/customers/", query_string={"q": "mathison"}).get_data(as_text=True)
    assert "Alan Mathison" in html
    assert "Alan Mathison" not in vendor_client.get("/vendor/customers/", query_string={"q": "turing"}).get_data(
        as_text=True)


def test_full_page_and_fragment_come_from_one_template(vendor_client, people):
    page = vendor_client.get("/vendor/customers/?q=ada")
    fragment = vendor_client.get("/vendor/customers/?q=ada", headers={"HX-Request": "true"})
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    for response in (page, fragment):
        assert "HX-Request" in {name.strip() for name in response.headers.get("Vary", "").split(",")}
    assert 'hx-push-url="true"' in page.get_data(as_text=True)


def test_keyset_pages_walk_every_customer_once(vendor_client, app, make, vendor):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make.customer(vendor, name=f"Person {n}")
    seen = []
    for html in walk_pages(vendor_client, "/vendor/customers/"):
        seen += sorted((f"Person {n}" for n in range(5) if f">Person {n}<" in html),
                       key=lambda name: html.index(f">{name}<"))
    assert sorted(seen) == [f"Person {n}" for n in range(5)] and len(seen) == 5
    assert seen[0] == "Person 4", "newest first"


def test_empty_state_says_what_to_do(vendor_client):
    assert "No customers yet" in vendor_client.get("/vendor/customers/").get_data(as_text=True)


def test_a_search_ending_in_the_last_code_point_is_no_error(vendor_client, people):
    assert vendor_client.get("/vendor/customers/", query_string={"q": "ada\U0010ffff"}).status_code == 200


@pytest.mark.parametrize(("name", "query"), [
    ("Zoë Núñez", "zoë nú"),
    ("Snake_Case Ltd", "snake_c"),
    ("Near Or Not", "near or not"),  # the text-search languages' operators are words like any other
    ("R2 D2", "r2 d"),
])
def test_any_word_characters_are_searchable(vendor_client, make, vendor, name, query):
    make.customer(vendor, name=name)
    html = vendor_client.get("/vendor/customers/", query_string={"q": query},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert name in html


@pytest.mark.parametrize("query", ['ada" OR "grace', "ada*", "'ada':* | grace:*", "ada NEAR grace", "(ada", "-ada",
                                  "ada AND", "^ada", "ada:*"])
def test_text_search_syntax_in_a_query_is_only_words(vendor_client, people, query):
    response = vendor_client.get("/vendor/customers/", query_string={"q": query}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    found = names(vendor_client, query)
    assert "Grace Hopper" not in found and "Ada Other" not in found


def test_a_deleted_customer_is_no_longer_found(vendor_client, people):
    response = post_form(vendor_client, f"/vendor/customers/{people['ada'].id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/customers/"
    assert names(vendor_client, "lovelace") == set()
    assert names(vendor_client, "ada") == set()


def test_keyset_pages_of_a_word_search_walk_every_match_once(vendor_client, app, make, vendor, other_vendor):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make.customer(vendor, name=f"Person {n}", company_name="Walker Labs")
        make.customer(other_vendor, name=f"Person {n}", company_name="Walker Labs")
    make.customer(vendor, name="Person Elsewhere")
    seen = []
    for html in walk_pages(vendor_client, "/vendor/customers/?q=walker+pers"):
        seen += [f"Person {n}" for n in range(5) if f">Person {n}<" in html]
        assert "Person Elsewhere" not in html
    assert sorted(seen) == [f"Person {n}" for n in range(5)] and len(seen) == 5


def test_a_listed_customer_shows_its_change_at_once(vendor_client, people):
    """Rows are cached per process by what they show: an edit shows on the next listing."""
    assert "grace@navy.test" in vendor_client.get("/vendor/customers/").get_data(as_text=True)
    post_form(vendor_client, f"/vendor/customers/{people['grace'].id}/edit",
              {"name": "Grace Brewster Hopper", "email": "grace@yale.test", "company_name": "US Navy"})
    html = vendor_client.get("/vendor/customers/").get_data(as_text=True)
    assert "grace@yale.test" in html and "Grace Brewster Hopper" in html and "grace@navy.test" not in html


def test_a_customer_with_two_words_of_the_prefix_counts_once_in_a_page(vendor_client, app, make, vendor):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make.customer(vendor, name=f"Pat Patterson {n}", company_name="Patisserie")
    seen = []
    for html in walk_pages(vendor_client, "/vendor/customers/?q=pat"):
        seen += [n for n in range(5) if f">Pat Patterson {n}<" in html]
    assert sorted(seen) == list(range(5))


def test_search_by_email_domain_and_by_a_key_of_theirs(vendor_client, make, vendor, other_vendor, people):
    make.customer(vendor, name="Navy Pier", email="pier@harbour.test")  # "navy" in the name, not the domain
    make.customer(other_vendor, name="Other Navy", email="x@navy.test")
    assert names(vendor_client, "@navy.test") == {"Grace Hopper"}
    assert names(vendor_client, "@NAV") == {"Grace Hopper"}  # the start of a domain
    assert names(vendor_client, "@nowhere.test") == set()
    assert names(vendor_client, "navy.test") == {"Grace Hopper"}  # a domain alone, without its @
    # A domain in other letters is kept as browsers send it (ASCII); typed as read, it finds the customer too.
    make.customer(vendor, name="Zoë", email="zoe@xn--exmple-cua.test")
    assert names(vendor_client, "zoe@exämple.test") == names(vendor_client, "@exämple.test") == {"Zoë"}
    # Kept as typed (the API, the command line), it is found by what was typed as well.
    make.customer(vendor, name="Zoé", email="zoe@exämple.test")
    assert names(vendor_client, "zoe@exämple.test") == names(vendor_client, "exämple.test") == {"Zoë", "Zoé"}
    key = make.key(make.product(vendor), customer=people["alan"])
    theirs = make.key(make.product(other_vendor), customer=make.customer(other_vendor, name="Ada Other"))
    assert names(vendor_client, key.key) == {"Alan Turing"}
    assert names(vendor_client, key.key.lower()) == {"Alan Turing"}
    assert names(vendor_client, theirs.key) == set()


def test_the_search_says_every_way_it_finds_a_customer(vendor_client, people):
    hint = vendor_client.get("/vendor/customers/").get_data(as_text=True)
    assert "By id, e-mail, @domain, name, company, secret, whole license key or Stripe customer (cus_…)" in hint
    empty = vendor_client.get("/vendor/customers/", query_string={"q": "zzz"}).get_data(as_text=True)
    assert "the start of an e-mail or of its domain (@example.com)" in empty and "a whole license key" in empty


def test_a_subscription_id_searched_among_customers_points_to_the_subscriptions(vendor_client, people):
    html = vendor_client.get("/vendor/customers/", query_string={"q": " sub_1PqRsT "}).get_data(as_text=True)
    assert "No customer matches" in html and "A Stripe subscription id (sub_…) is found among" in html
    (link,) = [link["href"] for link in links_in(html) if "q=sub_" in link["href"]]
    found = vendor_client.get(link)
    assert found.status_code == 200 and 'value="sub_1PqRsT"' in found.get_data(as_text=True)
