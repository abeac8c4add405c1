"""``/docs`` in a real browser (headless Chromium from Debian, driven by selenium): Swagger UI renders the
service's OpenAPI 3.1 document from files the service serves itself, and ``/score`` can be tried from it."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import need

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# Without the networking flags Chromium tries to reach Google at start (and fails: it has no internet).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,2000")
ITEM = {"completion": "<think>1 + 1 = 2</think> <answer>\\boxed{2}</answer>", "answer": "2"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service as Driver
    except ImportError:
        need(False, "selenium is not installed (pip install -e '.[dev]')")
    need(CHROMIUM is not None and CHROMEDRIVER is not None,
         "Chromium is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Driver(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver: Any, what: str, find: Callable[[], Any]) -> Any:
    """``find()``'s element once it is there; else fail with what the page shows instead."""
    from selenium.common.exceptions import NoSuchElementException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(driver, 60, ignored_exceptions=(NoSuchElementException,)).until(lambda _: find())
    except TimeoutException:
        shown = driver.find_element(By.TAG_NAME, "body").text[:1000]
        raise AssertionError(f"no {what} on /docs; the page shows:\n{shown}") from None


def score_operation(driver: Any, url: str) -> Any:
    from selenium.webdriver.common.by import By
    driver.get(url + "/docs")
    path = wait_for(driver, "POST /score operation", lambda: driver.find_element(
        By.CSS_SELECTOR, ".opblock-post .opblock-summary-path[data-path='/score']"))
    return path.find_element(By.XPATH, "./ancestor::div[contains(@class, 'opblock ')]")


def test_docs_lists_the_operations_from_local_files_only(browser, service):
    from selenium.webdriver.common.by import By
    score_operation(browser, service.url)
    paths = {e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/score", "/get_reward", "/jobs", "/healthz"} <= paths
    assert "Unable to render" not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.execute_script("return window.versions.swaggerUI.version").startswith("5.")
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(u.startswith(service.url + "/") for u in fetched), fetched  # no CDN, no validator


def test_score_can_be_tried_from_docs(browser, service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    operation = score_operation(browser, service.url)
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait_for(browser, "'Try it out' button", lambda: operation.find_element(By.CSS_SELECTOR, "button.try-out__btn")).click()
    body = wait_for(browser, "request body editor",
                    lambda: operation.find_element(By.CSS_SELECTOR, "textarea.body-param__text"))
    body.send_keys(Keys.CONTROL, "a")
    body.send_keys(Keys.DELETE)
    body.send_keys(json.dumps({"items": [ITEM], "recipe": "r1-zero"}))
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait_for(browser, "response", lambda: operation.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"))
    answer = wait_for(browser, "response body", lambda: operation.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response-col_description code"))
    assert status.text.strip() == "200", answer.text
    result = json.loads(answer.get_attribute("textContent"))["results"][0]
    assert (result["status"], result["reward"]) == ("ok", 2)  # accuracy 1 + format 1
