"""One-line builders of domain records, made through the same services the app uses."""

from sqlmodel import select

from portal.accounts import services as accounts
from portal.customers import services as customers
from portal.dataobjects import services as dataobjects
from portal.keys import services as keys
from portal.models import FEATURES, LicenseKey, PortalAccount, Product, Vendor, VendorUser
from portal.products.services import create_product
from portal.vendors.services import register_vendor
from tests.support.pages import post_form

VENDOR_PASSWORD = "owner-password-1"
CUSTOMER_PASSWORD = "customer-password-1"


class Factory:
    def __init__(self, app, session):
        self.app = app
        self.session = session

    def vendor(self, *, slug: str = "acme.io", name: str = "Acme", email: str | None = None) -> Vendor:
        user = register_vendor(self.session, name=name, slug=slug, email=email or f"owner@{slug}.test",
                               password=VENDOR_PASSWORD)
        self.session.commit()
        return self.session.get(Vendor, user.vendor_id)

    def owner(self, vendor: Vendor) -> VendorUser:
        from sqlmodel import select

        return self.session.exec(select(VendorUser).where(VendorUser.vendor_id == vendor.id)).first()

    def customer(self, vendor: Vendor, *, association: bool = False, origin: str = "vendor", **fields):
        fields.setdefault("name", "Test Customer")
        customer = customers.create_customer(self.session, vendor_id=vendor.id, actor="test",
                                             encryptor=self.app.extensions["encryptor"], origin=origin,
                                             enable_customer_association=association, **fields)
        self.session.commit()
        return customer

    def association_link(self, vendor: Vendor, customer) -> str:
        self.session.refresh(customer)
        code = customers.association_code(customer, self.app.extensions["encryptor"])
        assert code, "association is not enabled for this customer"
        return f"/Portal/@{vendor.slug}/Associate?id={customer.id}&auth={code}"

    def account(self, vendor: Vendor, customer, *, email: str = "user@example.test",
                password: str = CUSTOMER_PASSWORD, verified: bool = True) -> PortalAccount:
        account = accounts.create_account(self.session, vendor_id=vendor.id, customer_id=customer.id,
                                          email=email, password=password, verified=verified)
        self.session.commit()
        return account

    def terms(self, vendor: Vendor, url: str = "https://acme.example/terms-v1"):
        existing = dataobjects.find_by_name(self.session, vendor_id=vendor.id, name=dataobjects.TERMS_URL)
        if existing:
            dataobjects.update_object(self.session, data_object=existing, name=existing.name, string_value=url,
                                      int_value=0, actor="test")
        else:
            dataobjects.add_object(self.session, vendor_id=vendor.id, name=dataobjects.TERMS_URL,
                                   string_value=url, actor="test")
        self.session.commit()

    def login_vendor(self, client, vendor: Vendor) -> None:
        owner = self.owner(vendor)
        response = post_form(client, "/vendor/login", {"email": owner.email, "password": VENDOR_PASSWORD})
        assert (response.status_code, response.headers.get("Location")) == (303, "/vendor/"), response.get_data(
            as_text=True)

    def login_portal(self, client, vendor: Vendor, account: PortalAccount,
                     password: str = CUSTOMER_PASSWORD) -> None:
        url = f"/Portal/@{vendor.slug}/Login"
        response = post_form(client, url, {"email": account.email, "password": password})
        assert (response.status_code, response.headers.get("Location")) == (303, f"/Portal/@{vendor.slug}/"), (
            response.get_data(as_text=True))

    def product(self, vendor: Vendor, *, name: str | None = None, **feature_names) -> Product:
        if name is None:  # "Demo App", then "Demo App 2"...: a vendor's product names are its own
            made = len(self.session.exec(select(Product.id).where(Product.vendor_id == vendor.id)).all())
            name = "Demo App" if not made else f"Demo App {made + 1}"
        product = create_product(self.session, vendor_id=vendor.id, actor="test", name=name, **feature_names)
        self.session.commit()
        return product

    def key(self, product: Product, *, customer=None, period: int = 30, machines: tuple[str, ...] = (),
            **settings) -> LicenseKey:
        features = {name: settings.pop(name) for name in list(settings) if name in FEATURES}
        key = keys.create_key(self.session, product=product, actor="test", settings=keys.KeySettings(
            period=period, customer_id=customer.id if customer else None, features=features, **settings))
        for mid in machines:
            keys.activate_machine(self.session, key=key, mid=mid, friendly_name=f"Machine {mid}", actor="test")
        self.session.commit()
        return key
