"""A double-click as people make one: the second click comes while the page still waits for the first answer."""


def double_click_held(tab, button, path_glob: str) -> int:
    """Click `button` twice, 150 ms apart, while the answers to `path_glob` are held back; then let them through.
    Between the clicks comes the `pageshow` of a page still loading when it is first clicked (its style sheets
    late on a busy machine), which must not let the second click through. Returns how many requests the page
    sent."""
    held = []
    tab.route(path_glob, lambda route: held.append(route))
    button.evaluate(
        """button => {
            button.click();
            window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: false }));
            setTimeout(() => button.click(), 150);
        }"""
    )
    tab.wait_for_timeout(600)
    sent = len(held)
    for request in held:
        request.continue_()
    tab.unroute(path_glob)
    return sent
