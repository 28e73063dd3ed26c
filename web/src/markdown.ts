// Markdown rendering of model replies: marked for the syntax, highlight.js for
// code blocks, DOMPurify so that HTML in a reply cannot run script.
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/common';
import { Marked } from 'marked';

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = lang && hljs.getLanguage(lang) ? lang : undefined;
      const highlighted = language
        ? hljs.highlight(text, { language }).value
        : hljs.highlightAuto(text).value;
      const label = language ?? '';
      return `<pre><code class="hljs${label ? ` language-${label}` : ''}">${highlighted}</code></pre>\n`;
    },
  },
});

/** Renders Markdown to sanitized HTML. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false }) as string;
  return DOMPurify.sanitize(html);
}
