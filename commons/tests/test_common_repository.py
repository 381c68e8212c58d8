"""Repository and Mongo against a real MongoDB wire server (the test kit's `mongo_uri`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from kugelpos.common.db.documents import Document
from kugelpos.common.db.indexes import index
from kugelpos.common.db.mongo import Mongo, tenant_key, validate_tenant_id
from kugelpos.common.db.repository import Repository
from kugelpos.common.db.tenants import ensure_collections
from kugelpos.common.errors import AlreadyExistsError, BadRequestError, NotFoundError
from kugelpos.common.pagination import PageParams
from kugelpos.common.settings import CommonSettings


class Item(Document):
    item_code: str
    name: str
    price: int = 0
    category: str = "food"


class ItemRepository(Repository[Item]):
    collection_name = "item_master"
    document_type = Item
    indexes = (index("item_code", unique=True), index("category", "-price"))


class AuditLog(Document):
    entry: str


class AuditRepository(Repository[AuditLog]):
    collection_name = "log_audit"
    document_type = AuditLog
    indexes = (index("entry", unique=True),)


@pytest_asyncio.fixture
async def mongo(mongo_uri: str) -> AsyncIterator[Mongo]:
    settings = CommonSettings(environment="development", mongodb_uri=mongo_uri)
    client = Mongo(settings, prefix="db_commonstest")
    yield client
    await client.close()


@pytest_asyncio.fixture
async def tenant(mongo: Mongo) -> AsyncIterator[str]:
    tenant_id = "T" + uuid.uuid4().hex[:10]
    yield tenant_id
    await mongo.client.drop_database(mongo.database_name(tenant_id))


@pytest_asyncio.fixture
async def db(mongo: Mongo, tenant: str) -> AsyncDatabase:
    database = mongo.tenant_db(tenant)
    await ensure_collections(database, [ItemRepository, AuditRepository])
    return database


@pytest.fixture
def repo(db: AsyncDatabase) -> ItemRepository:
    return ItemRepository(db, actor="tester")


async def test_create_and_get(repo: ItemRepository) -> None:
    created = await repo.create(Item(item_code="A001", name="Apple", price=120))
    assert created.created_by == "tester"
    assert created.created_at.tzinfo is not None
    found = await repo.get({"item_code": "A001"})
    assert found.name == "Apple" and found.price == 120
    assert found.created_by == "tester"
    assert found.created_at.utcoffset() == UTC.utcoffset(None)
    assert abs((found.created_at - created.created_at).total_seconds()) < 0.01
    raw = await repo.collection.find_one({"item_code": "A001"})
    assert set(raw) >= {"_id", "item_code", "created_at", "updated_at", "created_by", "updated_by"}
    assert "_id" not in found.model_dump()


async def test_get_missing_is_not_found(repo: ItemRepository) -> None:
    assert await repo.find_one({"item_code": "nope"}) is None
    with pytest.raises(NotFoundError, match="Item nope not found"):
        await repo.get({"item_code": "nope"}, what="Item nope")
    with pytest.raises(NotFoundError, match="item_master not found"):
        await repo.get({"item_code": "nope"})


async def test_duplicate_key_is_already_exists(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple"))
    with pytest.raises(AlreadyExistsError) as info:
        await repo.create(Item(item_code="A001", name="Another apple"))
    assert info.value.status_code == 409
    assert info.value.error_code == "500005"
    assert await repo.count({}) == 1


async def test_update(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple", price=100))
    updated = await repo.update({"item_code": "A001"}, {"price": 150})
    assert updated is not None
    assert updated.price == 150
    assert updated.name == "Apple"
    assert updated.updated_by == "tester"
    assert updated.updated_at is not None and updated.updated_at >= updated.created_at
    assert (await repo.get({"item_code": "A001"})).price == 150


async def test_update_with_extra_operators(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple", price=100))
    updated = await repo.update(
        {"item_code": "A001"}, {"name": "Red apple"}, extra={"$inc": {"price": 5}}
    )
    assert updated is not None and (updated.name, updated.price) == ("Red apple", 105)


async def test_update_missing_is_none(repo: ItemRepository) -> None:
    assert await repo.update({"item_code": "ghost"}, {"price": 1}) is None


async def test_update_into_duplicate_is_already_exists(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple"))
    await repo.create(Item(item_code="B001", name="Banana"))
    with pytest.raises(AlreadyExistsError):
        await repo.update({"item_code": "B001"}, {"item_code": "A001"})


async def test_replace(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple", price=100))
    doc = await repo.get({"item_code": "A001"})
    doc.name = "Green apple"
    assert await repo.replace({"item_code": "A001"}, doc) is True
    stored = await repo.get({"item_code": "A001"})
    assert stored.name == "Green apple"
    assert stored.updated_by == "tester"
    assert stored.created_by == "tester"
    assert await repo.replace({"item_code": "ghost"}, doc) is False


async def test_replace_into_duplicate_is_already_exists(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple"))
    await repo.create(Item(item_code="B001", name="Banana"))
    clash = Item(item_code="A001", name="Banana renamed")
    with pytest.raises(AlreadyExistsError):
        await repo.replace({"item_code": "B001"}, clash)
    assert (await repo.get({"item_code": "B001"})).name == "Banana"


async def test_delete(repo: ItemRepository) -> None:
    await repo.create(Item(item_code="A001", name="Apple"))
    assert await repo.delete({"item_code": "A001"}) is True
    assert await repo.delete({"item_code": "A001"}) is False
    assert await repo.find_one({"item_code": "A001"}) is None


async def _seed(repo: ItemRepository) -> None:
    rows = [
        ("A", "food", 300),
        ("B", "food", 100),
        ("C", "drink", 200),
        ("D", "food", 500),
        ("E", "food", 400),
        ("F", "drink", 50),
    ]
    for code, category, price in rows:
        await repo.create(Item(item_code=code, name=code.lower(), category=category, price=price))


async def test_list_filter_sort_and_pages(repo: ItemRepository) -> None:
    await _seed(repo)
    params = PageParams(limit=2, page=1, sort=[("price", -1)])
    page = await repo.list({"category": "food"}, params)
    assert [i.item_code for i in page.items] == ["D", "E"]
    assert page.total == 4
    second = await repo.list(
        {"category": "food"}, PageParams(limit=2, page=2, sort=[("price", -1)])
    )
    assert [i.item_code for i in second.items] == ["A", "B"]
    third = await repo.list({"category": "food"}, PageParams(limit=2, page=3, sort=[("price", -1)]))
    assert third.items == [] and third.total == 4
    meta = second.metadata({"category": "food"})
    assert meta.model_dump() == {
        "total": 4,
        "page": 2,
        "limit": 2,
        "sort": "price:-1",
        "filter": {"category": "food"},
    }


async def test_list_multi_key_sort_and_unlimited(repo: ItemRepository) -> None:
    await _seed(repo)
    page = await repo.list({}, PageParams(limit=0, sort=[("category", 1), ("price", 1)]))
    assert [i.item_code for i in page.items] == ["F", "C", "B", "A", "E", "D"]
    assert page.total == 6


async def test_list_default_sort_is_newest_first(repo: ItemRepository) -> None:
    await _seed(repo)
    page = await repo.list({}, PageParams(limit=3))
    assert [i.item_code for i in page.items] == ["F", "E", "D"]


async def test_list_by_range_filter(repo: ItemRepository) -> None:
    await _seed(repo)
    page = await repo.list({"price": {"$gte": 200, "$lt": 450}}, PageParams(sort=[("price", 1)]))
    assert [i.item_code for i in page.items] == ["C", "A", "E"]
    assert page.total == 3


async def test_ensure_indexes_is_idempotent(db: AsyncDatabase) -> None:
    await ItemRepository.ensure_indexes(db)
    await ensure_collections(db, [ItemRepository, AuditRepository])
    info = await db["item_master"].index_information()
    assert info["item_master_index_item_code"]["unique"] is True
    assert info["item_master_index_category_price"]["key"] == [("category", 1), ("price", -1)]
    assert "log_audit_index_entry" in await db["log_audit"].index_information()


async def test_transaction_commits_both_writes(mongo: Mongo, db: AsyncDatabase) -> None:
    items, audit = ItemRepository(db, actor="tx"), AuditRepository(db, actor="tx")

    async def work(session) -> str:
        await items.create(Item(item_code="T1", name="t"), session=session)
        await audit.create(AuditLog(entry="created T1"), session=session)
        return "done"

    assert await mongo.in_transaction(work) == "done"
    assert await items.find_one({"item_code": "T1"}) is not None
    assert await audit.find_one({"entry": "created T1"}) is not None


async def test_transaction_rolls_back_on_error(mongo: Mongo, db: AsyncDatabase) -> None:
    items, audit = ItemRepository(db), AuditRepository(db)

    async def work(session) -> None:
        await items.create(Item(item_code="T2", name="t"), session=session)
        await audit.create(AuditLog(entry="created T2"), session=session)
        raise RuntimeError("fail after both writes")

    with pytest.raises(RuntimeError, match="fail after both writes"):
        await mongo.in_transaction(work)
    assert await items.find_one({"item_code": "T2"}) is None
    assert await audit.find_one({"entry": "created T2"}) is None


async def test_transaction_rolls_back_on_duplicate(mongo: Mongo, db: AsyncDatabase) -> None:
    items, audit = ItemRepository(db), AuditRepository(db)
    await audit.create(AuditLog(entry="taken"))

    async def work(session) -> None:
        await items.create(Item(item_code="T3", name="t"), session=session)
        await audit.create(AuditLog(entry="taken"), session=session)

    with pytest.raises(AlreadyExistsError):
        await mongo.in_transaction(work)
    assert await items.find_one({"item_code": "T3"}) is None


async def test_tenant_databases_are_isolated(mongo: Mongo, tenant: str) -> None:
    other = "U" + uuid.uuid4().hex[:10]
    try:
        mine = ItemRepository(mongo.tenant_db(tenant))
        theirs = ItemRepository(mongo.tenant_db(other))
        await mine.create(Item(item_code="X", name="mine"))
        assert await theirs.find_one({"item_code": "X"}) is None
    finally:
        await mongo.client.drop_database(mongo.database_name(other))


async def test_ping(mongo: Mongo) -> None:
    await mongo.ping()


def test_database_naming(mongo: Mongo) -> None:
    assert mongo.database_name("A1234") == "db_commonstest_A1234"
    assert mongo.tenant_db("A1234").name == "db_commonstest_A1234"
    assert mongo.commons_db().name == "db_commonstest_commons"


def test_prefix_defaults_to_settings() -> None:
    settings = CommonSettings(environment="development", db_name_prefix="db_terminal")
    assert Mongo(settings).database_name("A1234") == "db_terminal_A1234"
    assert Mongo(settings, prefix="db_cart").database_name("A1234") == "db_cart_A1234"


@pytest.mark.parametrize("tenant_id", ["A1234", "tenant_1", "x", "Z" * 32, "0001"])
def test_valid_tenant_ids(tenant_id: str) -> None:
    assert validate_tenant_id(tenant_id) == tenant_id


@pytest.mark.parametrize(
    "tenant_id",
    [
        "",
        "commons",
        "COMMONS",
        "admin",
        "Admin",
        "local",
        "config",
        "A1234-5678",
        "a.b",
        "a b",
        "a/b",
        "$cmd",
        "a\x00b",
        "Z" * 33,
        "テナント",
        "A1234\n",
    ],
)
def test_invalid_tenant_ids(tenant_id: str) -> None:
    with pytest.raises(BadRequestError) as info:
        validate_tenant_id(tenant_id)
    assert info.value.status_code == 400


def test_invalid_tenant_never_reaches_a_database_name(mongo: Mongo) -> None:
    with pytest.raises(BadRequestError):
        mongo.tenant_db("commons")
    with pytest.raises(BadRequestError):
        mongo.database_name("x.system")


def test_index_declaration() -> None:
    declared = index("tenant_id", "-created_at", unique=True, ttl=60)
    assert declared.fields == (("tenant_id", 1), ("created_at", -1))
    model = declared.model("log_x").document
    assert model["name"] == "log_x_index_tenant_id_created_at"
    assert model["unique"] is True
    assert model["expireAfterSeconds"] == 60


def test_document_audit_defaults() -> None:
    doc = Item(item_code="A", name="a")
    assert doc.created_at.tzinfo is not None
    assert datetime.now(UTC) >= doc.created_at
    assert doc.to_mongo()["updated_at"] is None
    assert (
        Item.model_validate({"item_code": "A", "name": "a", "_id": "x", "junk": 1}).item_code == "A"
    )


async def test_explicit_session(mongo: Mongo, repo: ItemRepository) -> None:
    async with mongo.session() as session:
        await repo.create(Item(item_code="S1", name="s"), session=session)
        assert (await repo.get({"item_code": "S1"}, session=session)).name == "s"


# ---- tenant ids unique without regard to case ----------------------------------------------


async def test_tenant_case_variant_finds_a_database_differing_only_in_case(mongo: Mongo) -> None:
    """MongoDB refuses a database name that differs from an existing one only in case."""
    tenant_id = "Tc" + uuid.uuid4().hex[:8]
    await ensure_collections(mongo.tenant_db(tenant_id), [AuditRepository])
    try:
        assert await mongo.tenant_case_variant(tenant_id.lower()) == tenant_id
        assert await mongo.tenant_case_variant(tenant_id.upper()) == tenant_id
        assert await mongo.tenant_case_variant(tenant_id) is None  # itself is no variant
        assert await mongo.tenant_case_variant("Tc" + uuid.uuid4().hex[:8]) is None
    finally:
        await mongo.client.drop_database(mongo.database_name(tenant_id))


def test_tenant_key_folds_case_only() -> None:
    assert tenant_key("Shop_1A") == tenant_key("SHOP_1a") == "shop_1a"


class KeyedClaim(Document):
    name: str
    key: str | None = None


class KeyedClaimRepository(Repository[KeyedClaim]):
    collection_name = "claims"
    document_type = KeyedClaim
    indexes = (index("key", unique=True, sparse=True),)


async def test_a_sparse_unique_key_ignores_documents_without_it(db: AsyncDatabase) -> None:
    await ensure_collections(db, [KeyedClaimRepository])
    claims = KeyedClaimRepository(db, actor="tester")
    # Documents written before the key existed have no such field (not even null): they are
    # left out of the index, however many there are.
    for name in ("old-1", "old-2"):
        await db[KeyedClaimRepository.collection_name].insert_one({"name": name})
    await claims.create(KeyedClaim(name="Shop", key="shop"))
    with pytest.raises(AlreadyExistsError):
        await claims.create(KeyedClaim(name="SHOP", key="shop"))
