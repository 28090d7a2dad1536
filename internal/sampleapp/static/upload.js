// The upload goes by XHR, as in most apps: the file appears in the list
// and the hidden #attachment input gets its name when the app has it.
document.getElementById('upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target, status = document.getElementById('upload-status');
  status.removeAttribute('role');
  status.textContent = 'Uploading…';
  let r;
  try {
    r = await fetch('/files', {method: 'POST', body: new FormData(form),
      headers: {'Accept': 'application/json', 'X-CSRF-Token': form.elements.csrf_token.value}});
  } catch (err) {
    status.setAttribute('role', 'alert');
    status.textContent = 'Upload failed: ' + err.message;
    return;
  }
  if (!r.ok) {
    status.setAttribute('role', 'alert');
    status.textContent = 'Upload failed: ' + (await r.text()).trim();
    return;
  }
  const f = await r.json();
  const list = document.getElementById('files'), li = document.createElement('li'), a = document.createElement('a');
  list.querySelector('.empty')?.remove();
  li.className = 'file';
  a.href = '/files/' + f.id;
  a.download = f.name;
  a.textContent = f.name;
  li.append(a, ' ');
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = f.size + ' bytes';
  li.append(meta);
  list.append(li);
  form.elements.attachment.value = f.name;
  status.textContent = 'Uploaded ' + f.name;
});
