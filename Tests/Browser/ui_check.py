"""Drives the debug UI in a real Chromium (Debian's chromium and chromium-driver, selenium from PyPI).

Logs in, finds a method and calls it through the generated form, sees a validation error at its field, submits
a job and watches its bar reach 100 %, sees events arrive live, aborts a job, logs out. Writes a screenshot of
every page at 1280x800 and at a phone's width (390x844) into SCREENSHOTS.

Usage: ui_check.py UI_URL USERNAME PASSWORD SCREENSHOTS
"""
import os
import shutil
import sys

import pyotp

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

URL, USER, PASSWORD, SHOTS, OTP_USER, OTP_URI = sys.argv[1:7]
os.makedirs(SHOTS, exist_ok=True)
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800"]:
        options.add_argument(argument)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver")
    return webdriver.Chrome(options=options, service=service)


driver = browser()
wait = WebDriverWait(driver, 30)


def find(css):
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def click(css):
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def until(what, condition):
    def attempt(_):
        # The live lists are redrawn on every event: an element found a moment ago may be gone; look again.
        try:
            return condition()
        except StaleElementReferenceException:
            return False
    try:
        return wait.until(attempt)
    except Exception:
        driver.save_screenshot(os.path.join(SHOTS, "failed.png"))
        raise AssertionError("never: " + what)


def page(name):
    click('nav button[data-page="%s"]' % name)
    until("the %s page shows" % name, lambda: driver.find_element(By.ID, "page-" + name).is_displayed())


def choose(method):
    page("methods")
    search = find("#method-search")
    search.clear()
    search.send_keys(method)
    click('#method-list li[data-method="%s"]' % method)
    until(method + " is shown", lambda: driver.find_element(By.ID, "method-name").text == method)


def fill(path, value):
    box = find('#call-form [data-path="%s"] input' % path)
    box.clear()
    box.send_keys(str(value))


def call():
    driver.execute_script("document.getElementById('call-result').textContent = ''; document.getElementById('call-error').textContent = ''")
    click("#call-button")


def shoot(name):
    for label, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        driver.save_screenshot(os.path.join(SHOTS, "%s-%s.png" % (name, label)))
    driver.set_window_size(*SIZES["desktop"])


def job_row(method, state=None):
    """The first job row of `method` (in `state`) as {id, state, percent, bar}, read in one step in the page: the
    table is redrawn on every job event, so elements are not held across calls."""
    return driver.execute_script("""
        for (const row of document.querySelectorAll('#job-list tr')) {
          const cells = row.querySelectorAll('td');
          if (cells.length > 2 && cells[1].textContent === arguments[0] && (arguments[1] === null || cells[2].textContent === arguments[1]))
            return { id: row.dataset.jobId, state: cells[2].textContent, percent: row.querySelector('.job-percent').textContent,
                     bar: row.querySelector('progress').value };
        }
        return null;""", method, state)


try:
    driver.get(URL)
    find("#login-form")
    shoot("login")
    # A wrong password is told, and nothing opens.
    find("#login-user").send_keys(USER)
    find("#login-password").send_keys("not-the-password")
    click("#login-button")
    until("the refusal shows", lambda: driver.find_element(By.ID, "login-error").text != "")
    assert not driver.find_element(By.ID, "app-view").is_displayed()
    find("#login-password").clear()
    find("#login-password").send_keys(PASSWORD)
    click("#login-button")
    until("logged in", lambda: USER in driver.find_element(By.ID, "whoami").text)
    print("login: ok")

    # Find a method by searching, and call it through the generated form; a bad value is shown at its field.
    choose("test.job")
    shoot("methods")
    fill("steps", -1)
    call()
    error = until("the validation error at steps", lambda: driver.find_elements(By.CSS_SELECTOR, '#call-form [data-path="steps"] .field-error'))
    print("validation error at steps: " + error[0].text)
    fill("steps", 5)
    fill("step_ms", 150)
    call()
    until("the job submitted", lambda: "submitted" in driver.find_element(By.ID, "call-result").text)
    assert "switchboard call test.job '5' '150'" in driver.find_element(By.ID, "copy-cli").text, driver.find_element(By.ID, "copy-cli").text
    print("form call: ok")

    # A oneOf (chosen by its title), an array, an enum and a $ref to a named definition, through the form.
    choose("forms.shape")
    chooser = find('#call-form [data-path="shape"] > select')
    chooser.find_element(By.XPATH, "option[text()='square']").click()
    fill("shape.side", 3)
    click('#call-form [data-path="tags"] > button')
    fill("tags.0", "blue")
    find('#call-form select[name="colour"]').find_element(By.XPATH, "option[text()='\"green\"']").click()
    fill("who", "far-too-long-a-name")
    call()
    until("the $ref's maxLength shown at who", lambda: driver.find_elements(By.CSS_SELECTOR, '#call-form [data-path="who"] .field-error'))
    fill("who", "bob")
    call()
    until("the echo", lambda: driver.find_element(By.ID, "call-result").text != "")
    import json
    echoed = json.loads(driver.find_element(By.ID, "call-result").text)
    assert echoed == [{"side": 3}, ["blue"], "green", "bob"], echoed
    print("oneOf, array, enum and $ref form: ok")

    # Its bar reaches 100 %.
    page("jobs")
    until("test.job SUCCESS at 100 %", lambda: (lambda r: r is not None and "100 %" in r["percent"])(job_row("test.job", "SUCCESS")))
    assert job_row("test.job", "SUCCESS")["bar"] == 100
    shoot("jobs")
    print("job progress: ok")

    # Events appear live once subscribed.
    page("events")
    find("#event-name").send_keys("test.fanout")
    click("#subscribe-form button")
    find('#subscriptions li[data-subscription="test.fanout"]')
    choose("test.emit")
    fill("count", 3)
    call()
    until("the call answered", lambda: driver.find_element(By.ID, "call-result").text == "true")
    page("events")
    until("three events", lambda: len(driver.find_elements(By.CSS_SELECTOR, '#event-list li[data-event="test.fanout"]')) == 3)
    shoot("events")
    print("live events: ok")

    # A job that waits forever is aborted from its row.
    choose("test.gated")
    fill("gate", "never-opened")
    call()
    until("the gated job submitted", lambda: "submitted" in driver.find_element(By.ID, "call-result").text)
    page("jobs")
    gated = until("test.gated running", lambda: job_row("test.gated", "RUNNING"))
    abort = '#job-list tr[data-job-id="%s"] button.job-abort' % gated["id"]
    until("Abort clicked", lambda: driver.find_element(By.CSS_SELECTOR, abort).click() or True)
    until("test.gated ABORTED", lambda: job_row("test.gated", "ABORTED") is not None)
    print("abort: ok")

    page("daemon")
    until("the plugins listed", lambda: "core" in driver.find_element(By.ID, "plugins").text)
    shoot("daemon")
    page("frames")
    frames = driver.find_element(By.ID, "frame-list").text
    assert "core.job_abort" in frames and PASSWORD not in frames, "the frames tap"
    shoot("frames")
    print("daemon and frames: ok")

    click("#logout")
    until("the login form is back", lambda: driver.find_element(By.ID, "login-view").is_displayed())
    assert not driver.find_element(By.ID, "app-view").is_displayed()
    print("logout: ok")

    # A two-factor account: the password alone is refused, the password with pyotp's current code logs in.
    find("#login-key").clear()
    find("#login-user").clear()
    find("#login-user").send_keys(OTP_USER)
    find("#login-password").send_keys(PASSWORD)
    click("#login-button")
    until("the refusal without a code", lambda: "one-time code" in driver.find_element(By.ID, "login-error").text)
    find("#login-password").clear()
    find("#login-password").send_keys(PASSWORD)
    find("#login-otp").send_keys(pyotp.parse_uri(OTP_URI).now())
    click("#login-button")
    until("logged in with a code", lambda: OTP_USER in driver.find_element(By.ID, "whoami").text)
    assert driver.find_element(By.ID, "login-otp").get_attribute("value") == "", "the code is cleared"
    print("two-factor login: ok")
    print("done")
finally:
    driver.quit()
