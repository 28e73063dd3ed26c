// Service worker: the two context menu items, and the side panel opening on
// the toolbar button. A menu click opens the side panel at once (Chrome allows
// sidePanel.open only during the user's gesture), then leaves the prompt in
// chrome.storage.session, where the side panel picks it up.

const maxPageCharacters = 12000;

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: 'ask-selection', title: chrome.i18n.getMessage('menuAskSelection'), contexts: ['selection'] });
  chrome.contextMenus.create({ id: 'summarize-page', title: chrome.i18n.getMessage('menuSummarizePage'), contexts: ['page'] });
  void chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true });
});

async function pageText(tabId: number): Promise<{ title: string; text: string }> {
  const [result] = await chrome.scripting.executeScript({
    target: { tabId },
    func: (limit: number) => ({ title: document.title, text: document.body.innerText.slice(0, limit) }),
    args: [maxPageCharacters],
  });
  return result.result as { title: string; text: string };
}

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (!tab?.id || tab.windowId === undefined) return;
  const opened = chrome.sidePanel.open({ windowId: tab.windowId });

  const prompt = info.menuItemId === 'ask-selection'
    ? Promise.resolve(chrome.i18n.getMessage('askSelectionPrompt', [info.selectionText ?? '']))
    : pageText(tab.id).then(({ title, text }) => chrome.i18n.getMessage('summarizePagePrompt', [title, text]));

  void Promise.all([opened, prompt]).then(([, text]) =>
    chrome.storage.session.set({ pendingPrompt: { text, at: Date.now() } }));
});
