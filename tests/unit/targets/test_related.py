"""Which containers belong to a Dockerfile (compose labels, image names, folder-name guess); compose files."""

from __future__ import annotations

from pathlib import Path

from debugbox.core.targets.model import Target
from debugbox.core.targets.related import ComposeService, RelationContext, relate, relation
from debugbox.edge.compose import services_building


def target(name: str, image: str = "x:1", **labels: str) -> Target:
    return Target(f"docker://{name}", "docker", name, image, "running", labels=dict(labels))


WEB = ComposeService("web", "shop", "/src/shop", "/src/shop/compose.yaml", image="registry.local/shop-web:2")
CTX = RelationContext(dockerfile="/src/shop/Dockerfile", services=(WEB,))


def test_compose_labels_win() -> None:
    t = target(
        "shop-web-1",
        **{"com.docker.compose.service": "web", "com.docker.compose.project.working_dir": "/src/shop/"},
    )
    reason = relation(t, CTX)
    assert reason is not None and "compose service 'web'" in reason and "/src/shop/compose.yaml" in reason


def test_same_service_name_in_another_project_is_not_related() -> None:
    t = target(
        "x", **{"com.docker.compose.service": "web", "com.docker.compose.project.working_dir": "/other"}
    )
    assert relation(t, CTX) is None


def test_project_label_counts_when_there_is_no_working_dir() -> None:
    t = target("x", **{"com.docker.compose.service": "web", "com.docker.compose.project": "shop"})
    assert relation(t, CTX) is not None


def test_image_names() -> None:
    assert "image: of compose service 'web'" in (
        relation(target("a", "registry.local/shop-web:2"), CTX) or ""
    )
    assert relation(target("a", "registry.local/shop-web:1"), CTX) is None  # another tag
    assert "compose builds" in (relation(target("b", "shop-web:latest"), CTX) or "")
    assert "compose builds" in (relation(target("b", "shop_web"), CTX) or "")
    with_setting = RelationContext(dockerfile="/src/api/Dockerfile", app_image="docker.io/library/api")
    assert "appImage" in (relation(target("c", "api:latest"), with_setting) or "")


def test_podmans_localhost_names_match_the_names_they_were_built_with() -> None:
    # `podman build -t shop-web` runs as localhost/shop-web:latest; Docker would say shop-web:latest.
    assert "compose builds" in (relation(target("p", "localhost/shop-web:latest"), CTX) or "")
    with_setting = RelationContext(dockerfile="/src/svc/Dockerfile", app_image="api:2")
    assert "appImage" in (relation(target("q", "localhost/api:2"), with_setting) or "")
    assert relation(target("r", "localhost/api:1"), with_setting) is None  # another tag
    assert relation(target("s", "localhost:5000/api:2"), with_setting) is None  # a registry on a port


def test_folder_name_is_only_a_guess_and_said_so() -> None:
    ctx = RelationContext(dockerfile="/src/billing/Dockerfile")
    reason = relation(target("d", "ghcr.io/acme/billing:3"), ctx)
    assert reason is not None and reason.startswith("a guess")
    assert relation(target("e", "ghcr.io/acme/billing-worker:3"), ctx) is None


def test_related_first_in_stable_order() -> None:
    ts = [target("a"), target("b", "registry.local/shop-web:2"), target("c"), target("d", "shop-web")]
    out = relate(ts, CTX)
    assert [t.name for t in out] == ["b", "d", "a", "c"]
    assert [t.related for t in out] == [True, True, False, False]


def test_compose_services_building_the_dockerfile(tmp_path: Path) -> None:
    app = tmp_path / "repo" / "services" / "api"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "Dockerfile.worker").write_text("FROM scratch\n")
    (tmp_path / "repo" / "docker-compose.yml").write_text(
        "name: acme\n"
        "services:\n"
        "  api:\n    build: services/api\n    image: acme/api:dev\n"
        "  worker:\n    build:\n      context: services/api\n      dockerfile: Dockerfile.worker\n"
        "  remote:\n    build: https://example.invalid/repo.git\n"
        "  db:\n    image: postgres\n"
    )
    (app / "compose.yaml").write_text(": not yaml [")  # unreadable files are skipped

    api = services_building(app / "Dockerfile", stop_at=tmp_path / "repo")
    worker = services_building(app / "Dockerfile.worker")

    assert [(s.service, s.project, s.image) for s in api] == [("api", "acme", "acme/api:dev")]
    assert api[0].project_dir == str((tmp_path / "repo").resolve())
    assert [s.service for s in worker] == ["worker"]
    assert (
        services_building(app / "Dockerfile", stop_at=app) == []
    )  # the search stops at the workspace folder


def test_services_building_skips_a_compose_file_linked_from_outside_the_workspace(tmp_path: Path) -> None:
    """The walk the app image uses (`workspace.compose_files_near`): a compose file that is a link leaving the
    workspace folder is not read; without a workspace folder (the CLI) it is."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "Dockerfile").write_text("FROM scratch\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "compose.yaml").write_text("name: private\nservices:\n  secret:\n    build: .\n")
    (ws / "compose.yaml").symlink_to(other / "compose.yaml")

    assert services_building(ws / "Dockerfile", stop_at=ws) == []
    assert [s.service for s in services_building(ws / "Dockerfile")] == ["secret"]


def test_services_building_through_extends_and_include(tmp_path: Path) -> None:
    """A Dockerfile built by a service only through `extends:` (a base in another file) or `include:` is
    that service's: its containers are related to the Dockerfile."""
    repo = tmp_path / "repo"
    (repo / "api").mkdir(parents=True)
    (repo / "api" / "Dockerfile").write_text("FROM scratch\n")
    (repo / "db").mkdir()
    (repo / "db" / "Dockerfile").write_text("FROM scratch\n")
    (repo / "common.yaml").write_text("services:\n  base:\n    build: api\n")
    (repo / "db" / "compose.yaml").write_text("services:\n  store:\n    build: .\n")
    (repo / "compose.yaml").write_text(
        "name: acme\ninclude:\n  - db/compose.yaml\n"
        "services:\n  web:\n    extends: {file: common.yaml, service: base}\n"
    )

    api = services_building(repo / "api" / "Dockerfile", stop_at=repo)
    db = services_building(repo / "db" / "Dockerfile", stop_at=repo)

    assert [(s.service, s.project) for s in api] == [("web", "acme")]
    # db/compose.yaml alone is a project too (`db`); included from the repo's file, `store` is acme's.
    assert [(s.service, s.project, s.project_dir) for s in db] == [
        ("store", "db", str((repo / "db").resolve())),
        ("store", "acme", str(repo.resolve())),
    ]
