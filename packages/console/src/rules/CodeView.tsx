/**
 * The code view: CodeMirror 6 on the same document, in JSON or YAML. The server's verdict becomes CodeMirror lint
 * diagnostics at the line and column it names, so a problem is underlined where it is and listed in the gutter.
 */
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { Verdict } from '../api';
import type { Format } from './RuleSetPage';

const language = new Compartment();
/** CodeMirror adds its styles as <style> elements: they carry the nonce the server put in the page and its CSP. */
const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? undefined;
const languageOf = (format: Format) => (format === 'json' ? json() : yaml());

export function CodeView({
  text,
  format,
  verdict,
  onChange,
}: {
  text: string;
  format: Format;
  verdict: Verdict | undefined;
  onChange: (text: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current as HTMLDivElement,
      state: EditorState.create({
        doc: text,
        extensions: [
          ...(nonce ? [EditorView.cspNonce.of(nonce)] : []),
          basicSetup,
          language.of(languageOf(format)),
          lintGutter(),
          EditorView.contentAttributes.of({ 'aria-label': 'Rule set source', 'aria-multiline': 'true' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // Created once; text and format changes from outside are applied below.
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    if (editor.state.doc.toString() !== text) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
    }
  }, [text]);

  useEffect(() => {
    view.current?.dispatch({ effects: language.reconfigure(languageOf(format)) });
  }, [format]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const doc = editor.state.doc;
    const diagnostics: Diagnostic[] = [];
    for (const [issues, severity] of [
      [verdict?.errors ?? [], 'error'],
      [verdict?.warnings ?? [], 'warning'],
    ] as const) {
      for (const issue of issues) {
        const line = doc.line(Math.min(Math.max(issue.line ?? 1, 1), doc.lines));
        const from = Math.min(line.from + Math.max((issue.column ?? 1) - 1, 0), line.to);
        diagnostics.push({ from, to: line.to, severity, message: `#${issue.pointer}: ${issue.message}` });
      }
    }
    editor.dispatch(setDiagnostics(editor.state, diagnostics));
  }, [verdict, text]);

  return <div className="code-view" ref={host} />;
}
